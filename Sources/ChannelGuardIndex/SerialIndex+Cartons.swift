/// Cartons: an SSCC bound with its contents.
///
/// Binding a carton binds the SSCC and each unit inside it (serials, or nested cartons with their
/// own contents), flagged ``SerialBinding/Flags/fromCarton``. The contents list is kept in the
/// carton's shard under internal keys (`0x03`, the SSCC, the unit's key), so that rebinding or
/// unbinding the carton reaches every unit.
extension SerialIndex {
    /// Binds a carton and its contents to `binding`. Units already bound move to the carton's binding
    /// (keeping their scan state); nested cartons take their contents along.
    public func bindCarton(sscc: UInt64, contents: [IndexKey], to binding: SerialBinding) throws(IndexError) {
        let carton = try IndexKey(sscc: sscc)
        for unit in contents where unit.isRange {
            throw IndexError(.invalidKey, "a carton holds serials and cartons, not the range \(unit)")
        }
        try bind(carton, to: binding)
        let shard = shard(carton)
        for unit in contents {
            _ = try Self.withContentsKey(carton, unit) { bytes, count throws(IndexError) in
                try shard.tree.insert(bytes, count, SerialBinding(bits: 0))
            }
        }
        var unitBinding = binding
        unitBinding.flags.insert(.fromCarton)
        for unit in contents {
            if unit.isLogisticUnit {
                _ = try rebindCarton(unit, to: unitBinding, bindIfAbsent: true)
            } else if !rebind(unit, to: unitBinding) {
                try bind(unit, to: unitBinding)
            }
        }
    }

    /// Moves a carton and everything in it to another binding (an approved transfer), keeping scan
    /// state. Returns `false` when the carton is not bound.
    @discardableResult
    public func rebindCarton(sscc: UInt64, to binding: SerialBinding) throws(IndexError) -> Bool {
        try rebindCarton(try IndexKey(sscc: sscc), to: binding, bindIfAbsent: false)
    }

    private func rebindCarton(
        _ carton: IndexKey,
        to binding: SerialBinding,
        bindIfAbsent: Bool
    ) throws(IndexError) -> Bool {
        if !rebind(carton, to: binding) {
            guard bindIfAbsent else { return false }
            try bind(carton, to: binding)
        }
        var unitBinding = binding
        unitBinding.flags.insert(.fromCarton)
        for unit in contents(of: carton) {
            if unit.isLogisticUnit {
                _ = try rebindCarton(unit, to: unitBinding, bindIfAbsent: true)
            } else if !rebind(unit, to: unitBinding) {
                try bind(unit, to: unitBinding)
            }
        }
        return true
    }

    /// Unbinds a carton, its contents list, and every unit inside it (nested cartons included).
    /// Returns the carton's binding.
    @discardableResult
    public func unbindCarton(sscc: UInt64) throws(IndexError) -> SerialBinding? {
        try unbindCarton(try IndexKey(sscc: sscc))
    }

    private func unbindCarton(_ carton: IndexKey) -> SerialBinding? {
        let shard = shard(carton)
        for unit in contents(of: carton) {
            if unit.isLogisticUnit {
                _ = unbindCarton(unit)
            } else {
                unbind(unit)
            }
            Self.withContentsKey(carton, unit) { bytes, count in _ = shard.tree.remove(bytes, count) }
        }
        return unbind(carton)
    }

    /// Records that `unit` is packed in carton `sscc`, without changing any binding: for loaders that
    /// read each unit's own binding from elsewhere (the database).
    public func addToCarton(sscc: UInt64, unit: IndexKey) throws(IndexError) {
        let carton = try IndexKey(sscc: sscc)
        guard !unit.isRange else {
            throw IndexError(.invalidKey, "a carton holds serials and cartons, not the range \(unit)")
        }
        let shard = shard(carton)
        _ = try Self.withContentsKey(carton, unit) { bytes, count throws(IndexError) in
            try shard.tree.insert(bytes, count, SerialBinding(bits: 0))
        }
    }

    /// The units bound with a carton, in key order.
    public func contents(sscc: UInt64) throws(IndexError) -> [IndexKey] {
        contents(of: try IndexKey(sscc: sscc))
    }

    func contents(of carton: IndexKey) -> [IndexKey] {
        var prefix = [IndexKey.contentsTag]
        prefix.append(contentsOf: carton.bytes.dropFirst())
        var units: [IndexKey] = []
        _ = prefix.withUnsafeBytes { prefix in
            shard(carton).tree.forEach(prefix: prefix) { bytes, _ in
                units.append(IndexKey(bytes: UnsafeRawBufferPointer(rebasing: bytes[prefix.count...])))
                return true
            }
        }
        return units
    }

    /// Calls `body` with the internal key recording that `unit` is in `carton`.
    static func withContentsKey<R, E: Error>(
        _ carton: IndexKey,
        _ unit: IndexKey,
        _ body: (UnsafePointer<UInt8>, Int) throws(E) -> R
    ) throws(E) -> R {
        var bytes = [IndexKey.contentsTag]
        bytes.append(contentsOf: carton.bytes.dropFirst())
        bytes.append(contentsOf: unit.bytes)
        return try bytes.withUnsafeBufferPointer { buffer throws(E) in try body(buffer.baseAddress!, buffer.count) }
    }
}

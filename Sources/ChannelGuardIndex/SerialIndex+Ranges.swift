/// Serial-prefix ranges and ordered scans.
extension SerialIndex {
    /// Binds every serial of `gtin` starting with `prefix` (a printed run). A serial's own binding,
    /// and a longer range covering it, take precedence. Returns the binding replaced.
    @discardableResult
    public func bindRange(
        gtin: UInt64,
        prefix: some Collection<UInt8>,
        to binding: SerialBinding
    ) throws(IndexError) -> SerialBinding? {
        var replaced: SerialBinding?
        for shard in shards.indices {
            replaced = try bindRange(gtin: gtin, prefix: prefix, to: binding, inShard: shard)
        }
        return replaced
    }

    /// Binds a range in one shard's copy only: for the owner of that shard, which may not touch the
    /// others (a range is copied into every shard so that each answers its serials alone).
    @discardableResult
    public func bindRange(
        gtin: UInt64,
        prefix: some Collection<UInt8>,
        to binding: SerialBinding,
        inShard number: Int
    ) throws(IndexError) -> SerialBinding? {
        let key = try IndexKey.range(gtin: gtin, prefix: prefix)
        var flagged = binding
        flagged.flags.insert(.fromRange)
        let shard = shards[number]
        let old = try key.withBytes { bytes, count throws(IndexError) in try shard.tree.insert(bytes, count, flagged) }
        if old == nil { shard.rangeCount += 1 }
        return old
    }

    /// Removes a range. Returns its binding.
    @discardableResult
    public func unbindRange(gtin: UInt64, prefix: some Collection<UInt8>) throws(IndexError) -> SerialBinding? {
        var removed: SerialBinding?
        for shard in shards.indices {
            if let old = try unbindRange(gtin: gtin, prefix: prefix, inShard: shard) { removed = old }
        }
        return removed
    }

    /// Removes a range from one shard's copy only (see ``bindRange(gtin:prefix:to:inShard:)``).
    @discardableResult
    public func unbindRange(
        gtin: UInt64,
        prefix: some Collection<UInt8>,
        inShard number: Int
    ) throws(IndexError) -> SerialBinding? {
        let key = try IndexKey.range(gtin: gtin, prefix: prefix)
        let shard = shards[number]
        guard let old = key.withBytes({ shard.tree.remove($0, $1) }) else { return nil }
        shard.rangeCount -= 1
        return old
    }

    /// Calls `body` with every binding of `gtin` in serial order: serials and ranges (a range's key
    /// is its prefix followed by `0x01`, so it comes just before the serials it covers). Stops when
    /// `body` returns `false`. Ranges are reported once, not once per shard.
    public func forEachBinding(gtin: UInt64, _ body: (IndexKey, SerialBinding) throws -> Bool) throws {
        var prefix: [UInt8] = [IndexKey.itemTag]
        for shift in stride(from: 40, through: 0, by: -8) {
            prefix.append(UInt8(truncatingIfNeeded: gtin >> UInt64(shift)))
        }
        // Merge the shards' ordered streams: each shard is scanned into a sorted list, then merged.
        var streams: [[(IndexKey, SerialBinding)]] = []
        for (number, shard) in shards.enumerated() {
            var entries: [(IndexKey, SerialBinding)] = []
            _ = prefix.withUnsafeBytes { prefix in
                shard.tree.forEach(prefix: prefix) { bytes, leaf in
                    let key = IndexKey(bytes: bytes)
                    if !key.isRange || number == 0 { entries.append((key, shard.tree.value(leaf))) }
                    return true
                }
            }
            streams.append(entries)
        }
        var positions = [Int](repeating: 0, count: streams.count)
        while true {
            var best: Int?
            for stream in streams.indices where positions[stream] < streams[stream].count {
                if let current = best {
                    if streams[stream][positions[stream]].0.bytes.lexicographicallyPrecedes(
                        streams[current][positions[current]].0.bytes
                    ) {
                        best = stream
                    }
                } else {
                    best = stream
                }
            }
            guard let stream = best else { return }
            let (key, binding) = streams[stream][positions[stream]]
            positions[stream] += 1
            guard try body(key, binding) else { return }
        }
    }
}

import ChannelGuardCodes

/// The in-memory index of serial → binding that every scan is checked against.
///
/// Keys are ``IndexKey``s (GTIN + serial, SSCC); values are ``SerialBinding``s. Beside exact
/// serials the index holds serial-prefix **ranges** (a printed run bound at once, answered by the
/// longest prefix that covers a serial) and **cartons** (an SSCC bound with its contents).
///
/// ## Concurrency
///
/// The index is split into shards by ``IndexKey/shardHash``. Each shard has exactly one owner at a
/// time: the pipeline shard (one per core) whose events hash to it. The owner is the only thread
/// that writes the shard and the only one that reads it while it may change, so neither reads nor
/// writes take a lock or an atomic operation; the tree's memory never moves (``Arena``), so no
/// reference is ever invalidated under its owner. Ownership passes between threads only with a
/// happens-before edge (a task hand-off, a queue), as when the index is loaded on one thread and
/// handed to the pipeline. Anything else that wants an answer (the API, audits) asks the owner or
/// reads the database; it never reads a live shard.
///
/// Whole-index operations touch several shards: ranges are copied into every shard (so a serial's
/// shard answers its range lookup alone) and a carton's contents may hash anywhere. They require
/// that the caller owns every shard involved: the loader does, and the daemon routes each shard's
/// part to its owner.
public final class SerialIndex: @unchecked Sendable {
    /// The shards; `shards[Int(key.shardHash % count)]` holds a key.
    public let shards: [IndexShard]

    /// An empty index of `shardCount` shards (at least one).
    public init(shardCount: Int = 1) throws(IndexError) {
        var shards: [IndexShard] = []
        for _ in 0..<max(1, shardCount) { shards.append(try IndexShard()) }
        self.shards = shards
    }

    init(shards: [IndexShard]) {
        self.shards = shards
    }

    /// Rewrites every shard into fresh arenas without free slots (see ``RadixTree/compacted()``).
    /// Worth doing after a bulk load; needs the memory of the largest shard once more while it runs.
    public func compact() throws(IndexError) {
        for shard in shards {
            let copy = try shard.tree.compacted()
            shard.tree.release()
            shard.tree = copy
            shard.shortcuts.update(repeating: .empty, count: RadixTree.Shortcut.slots)
        }
    }

    /// The shard number of a key.
    @inline(__always)
    public func shardNumber(_ key: IndexKey) -> Int {
        shards.count == 1 ? 0 : Int(key.shardHash % UInt64(shards.count))
    }

    @inline(__always)
    func shard(_ key: IndexKey) -> IndexShard { shards[shardNumber(key)] }

    /// Keys in all shards (ranges counted once per shard).
    public var count: Int { shards.reduce(0) { $0 + $1.count } }

    /// Bytes of memory all shards' nodes and leaves occupy.
    public var bytesUsed: Int { shards.reduce(0) { $0 + $1.bytesUsed } }

    /// How a lookup found its binding.
    public enum Source: UInt8, Sendable {
        /// The serial's own binding.
        case serial
        /// The longest serial-prefix range covering the serial.
        case range
        /// A logistic unit (SSCC) binding.
        case carton
    }

    /// A lookup's answer.
    public struct Match: Hashable, Sendable {
        public var binding: SerialBinding
        public var source: Source
    }

    // MARK: Single serials

    /// Binds a serial (or an SSCC) to `binding`, replacing any binding and scan state. Returns the
    /// binding replaced.
    @discardableResult
    public func bind(_ key: IndexKey, to binding: SerialBinding) throws(IndexError) -> SerialBinding? {
        guard !key.isRange else { throw IndexError(.invalidKey, "\(key) is a range; use bindRange") }
        return try key.withBytes { bytes, count throws(IndexError) in try shard(key).tree.insert(bytes, count, binding)
        }
    }

    /// Moves a bound serial (or SSCC) to another binding, keeping its scan state. Returns `false`
    /// when the key has no binding of its own.
    @discardableResult
    public func rebind(_ key: IndexKey, to binding: SerialBinding) -> Bool {
        let tree = shard(key).tree
        return key.withBytes { bytes, count in
            let leaf = tree.find(bytes, count)
            guard !leaf.isNone else { return false }
            let pointer = LeafCodec.valuePointer(tree.leaf(leaf))
            pointer.storeBytes(
                of: pointer.loadUnaligned(as: SerialBinding.self).rebound(to: binding),
                as: SerialBinding.self
            )
            return true
        }
    }

    /// Removes a serial's (or SSCC's) own binding. Returns the binding removed.
    @discardableResult
    public func unbind(_ key: IndexKey) -> SerialBinding? {
        let shard = shard(key)
        return key.withBytes { bytes, count in shard.tree.remove(bytes, count) }
    }

    /// The binding of a serial: its own, else the longest range covering it; for an SSCC, the
    /// carton's.
    @inline(__always)
    public func lookup(_ key: IndexKey) -> Match? {
        let shard = shard(key)
        return key.withBytes { bytes, count in
            let leaf = shard.tree.find(bytes, count)
            if !leaf.isNone {
                return Match(
                    binding: shard.tree.value(leaf),
                    source: bytes[0] == IndexKey.logisticUnitTag ? .carton : .serial
                )
            }
            return rangeMatch(shard, bytes, count)
        }
    }

    @inline(__always)
    func rangeMatch(_ shard: IndexShard, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Match? {
        guard shard.rangeCount > 0, bytes[0] == IndexKey.itemTag, bytes[count - 1] == IndexKey.serialEnd else {
            return nil
        }
        let range = shard.tree.longestRange(bytes, count, minimum: IndexKey.serialOffset + 1)
        return range.isNone ? nil : Match(binding: shard.tree.value(range), source: .range)
    }

    /// Records a downstream scan of a serial in its state. A serial bound only through a range gets
    /// an entry of its own (flagged ``SerialBinding/Flags/fromRange``) so that its state is kept.
    /// Returns the binding as it was before the scan, or `nil` for an unbound serial.
    @discardableResult
    public func record(_ key: IndexKey, step: ScanStep, region: UInt32, time: Int64) throws(IndexError) -> Match? {
        let shard = shard(key)
        return try key.withBytes { bytes, count throws(IndexError) in
            let leaf = shard.tree.find(bytes, count)
            if !leaf.isNone {
                return Self.record(
                    leaf,
                    of: shard.tree,
                    logistic: bytes[0] == IndexKey.logisticUnitTag,
                    step: step,
                    region: region,
                    time: time
                )
            }
            guard let range = rangeMatch(shard, bytes, count) else { return nil }
            var state = range.binding
            state.flags.insert(.fromRange)
            state.record(step: step, region: region, time: time)
            try shard.tree.insert(bytes, count, state)
            return range
        }
    }

    /// Records a scan in the state of the serial at `leaf`; returns its binding as it was before.
    @inline(__always)
    static func record(
        _ leaf: NodeRef,
        of tree: RadixTree,
        logistic: Bool,
        step: ScanStep,
        region: UInt32,
        time: Int64
    ) -> Match {
        let pointer = LeafCodec.valuePointer(tree.leaf(leaf))
        let before = pointer.loadUnaligned(as: SerialBinding.self)
        var after = before
        after.record(step: step, region: region, time: time)
        pointer.storeBytes(of: after, as: SerialBinding.self)
        return Match(binding: before, source: logistic ? .carton : .serial)
    }
}

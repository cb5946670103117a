#if canImport(Glibc)
import Glibc
#endif

/// What a running daemon needs to checkpoint the index and to carry scan state across a rebuild.
extension SerialIndex {
    /// An index over shards copied elsewhere (``copyShard(_:)``), to be written as a snapshot.
    public convenience init(copies: [IndexShard]) throws(IndexError) {
        guard !copies.isEmpty else { throw IndexError(.invalidKey, "an index needs at least one shard") }
        self.init(shards: copies)
    }

    /// A copy of shard `number`: its arenas' used bytes and its tree's state, so that it can be
    /// written while the original goes on changing. Run by the shard's owner (it reads the shard).
    /// Costs one `memcpy` of the shard (about 38 bytes a key).
    public func copyShard(_ number: Int) throws(IndexError) -> IndexShard {
        let source = shards[number]
        let copy = try IndexShard()
        for (from, to) in zip(source.tree.allArenas, copy.tree.allArenas) {
            memcpy(to.base, from.base, from.used)
        }
        for (position, arena) in source.tree.allArenas.enumerated() { copy.tree.setUsed(position, arena.used) }
        copy.tree.meta.update(from: source.tree.meta, count: RadixTree.metaCount)
        copy.tree.count = source.tree.count
        copy.rangeCount = source.rangeCount
        return copy
    }

    /// Calls `body` with every serial's and carton's own entry (not ranges, not carton contents).
    public func forEachEntry(_ body: (IndexKey, SerialBinding) throws -> Void) rethrows {
        for shard in shards {
            for tag in [IndexKey.itemTag, IndexKey.logisticUnitTag] {
                try withUnsafeBytes(of: tag) { prefix in
                    _ = try shard.tree.forEach(prefix: prefix) { bytes, leaf in
                        // A range's key ends in its own terminator; a serial's in the serial's.
                        if tag == IndexKey.itemTag, bytes.last != IndexKey.serialEnd { return true }
                        try body(IndexKey(bytes: bytes), shard.tree.value(leaf))
                        return true
                    }
                }
            }
        }
    }

    /// Carries scan state from `older` (a snapshot that no longer matches the tables) into this
    /// index, just rebuilt from them: every serial still bound keeps its sales, activations and last
    /// sighting; a unit bound only by a ship scan (not in the tables) keeps that binding. The caller
    /// owns every shard. Returns the entries carried over.
    @discardableResult
    public func carryScanState(from older: SerialIndex) throws(IndexError) -> Int {
        var carried = 0
        var failure: IndexError?
        older.forEachEntry { key, old in
            guard failure == nil else { return }
            let hasState = old.lastTime != nil || !old.flags.isDisjoint(with: [.sold, .activated])
            do throws(IndexError) {
                if let current = lookup(key) {
                    guard hasState else { return }
                    var merged = old.rebound(to: current.binding)
                    if current.source == .range { merged.flags.insert(.fromRange) }
                    try bind(key, to: merged)
                    carried += 1
                } else if old.shipment == SerialBinding.scanShipment {
                    try bind(key, to: old)
                    carried += 1
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return carried
    }
}

import ChannelGuardCodes

/// Recording a scan where a batched lookup just found the serial, without walking the tree again.
extension SerialIndex {
    /// Where a batched lookup found a key's own entry (``lookup(_:into:places:)``): its shard, its
    /// leaf, and the shape generation of the shard's tree at the time. The leaf stays where it is
    /// until a key is added to or removed from that shard (values change in place), so a place is
    /// good for as long as the generation is the same; after that, or for ``none``,
    /// ``record(_:at:step:region:time:)`` walks the tree as ``record(_:step:region:time:)`` does.
    public struct Place: Sendable, Hashable {
        var shard: UInt32
        /// The leaf's ``NodeRef`` (0: none).
        var leaf: UInt32
        var generation: UInt32

        /// No place: the key was not found, or only through a range.
        public static let none = Place(shard: 0, leaf: 0, generation: 0)

        /// Whether the lookup found the key's own entry.
        public var isNone: Bool { leaf == 0 }
    }

    /// Records a downstream scan of `key` as ``record(_:step:region:time:)`` does, starting from
    /// the `place` a batched lookup gave for it, when the shard's shape has not changed since.
    /// `place` must come from this index's lookup of `key` (or be ``Place/none``).
    ///
    /// Walking the tree again from the root cost twice as much as the batched lookup itself (150 ns
    /// a key against 72 at a million serials, docs/performance.md): it runs one key at a time, so
    /// none of its misses overlap.
    @discardableResult
    public func record(
        _ key: IndexKey,
        at place: Place,
        step: ScanStep,
        region: UInt32,
        time: Int64
    ) throws(IndexError) -> Match? {
        if !place.isNone, Int(place.shard) < shards.count {
            let tree = shards[Int(place.shard)].tree
            if tree.generation == place.generation {
                return Self.record(
                    NodeRef(raw: place.leaf),
                    of: tree,
                    logistic: key.isLogisticUnit,
                    step: step,
                    region: region,
                    time: time
                )
            }
        }
        return try record(key, step: step, region: region, time: time)
    }

    /// The binding and scan state of `key` now, read at the `place` a batched lookup gave for it
    /// while the shard's shape is unchanged, else looked up again (as ``lookup(_:)``). For a scan
    /// judged after others of the same part have bound or recorded: the lookup's own answer is the
    /// state before all of them.
    @inline(__always)
    public func current(_ key: IndexKey, at place: Place) -> Match? {
        if !place.isNone, Int(place.shard) < shards.count {
            let tree = shards[Int(place.shard)].tree
            if tree.generation == place.generation {
                return Match(
                    binding: tree.value(NodeRef(raw: place.leaf)),
                    source: key.isLogisticUnit ? .carton : .serial
                )
            }
        }
        return lookup(key)
    }
}

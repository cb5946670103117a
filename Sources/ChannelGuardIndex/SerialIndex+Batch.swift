import ChannelGuardCodes

/// Looking up a whole decoded batch at once.
extension SerialIndex {
    /// Looks up every key of `keys`, writing each answer to the same position of `results`: the
    /// serial's own binding, else its longest range, else `nil`.
    ///
    /// Walks of up to 16 keys advance in turn, one node each, prefetching the next node, so their
    /// cache misses overlap (``RadixTree/findBatch(count:keyAt:found:)``). With several shards, each
    /// shard's keys are looked up together.
    public func lookup(_ keys: UnsafeBufferPointer<IndexKey>, into results: UnsafeMutableBufferPointer<Match?>) {
        precondition(results.count >= keys.count, "results must have room for every key")
        guard let base = keys.baseAddress, !keys.isEmpty else { return }
        let storage = MemoryLayout<IndexKey>.offset(of: \IndexKey.storage)!
        if shards.count == 1 {
            lookup(shard: shards[0], count: keys.count, base: base, storage: storage, map: nil, results: results)
            return
        }
        // Group positions by shard, then look each shard's keys up together.
        var positions = [[Int32]](repeating: [], count: shards.count)
        for index in keys.indices { positions[shardNumber(keys[index])].append(Int32(index)) }
        for (number, shard) in shards.enumerated() where !positions[number].isEmpty {
            positions[number].withUnsafeBufferPointer { map in
                lookup(shard: shard, count: map.count, base: base, storage: storage, map: map, results: results)
            }
        }
    }

    @inline(__always)
    private func lookup(
        shard: IndexShard,
        count: Int,
        base: UnsafePointer<IndexKey>,
        storage: Int,
        map: UnsafeBufferPointer<Int32>?,
        results: UnsafeMutableBufferPointer<Match?>
    ) {
        let tree = shard.tree
        let hasRanges = shard.rangeCount > 0
        tree.findBatch(
            count: count,
            shortcuts: shard.shortcuts,
            keyAt: { index in
                let position = map.map { Int($0[index]) } ?? index
                let key = UnsafeRawPointer(base + position)
                return ((key + storage).assumingMemoryBound(to: UInt8.self), Int(base[position].count))
            },
            found: { index, leaf in
                let position = map.map { Int($0[index]) } ?? index
                if !leaf.isNone {
                    let logistic = base[position].isLogisticUnit
                    results[position] = Match(binding: tree.value(leaf), source: logistic ? .carton : .serial)
                } else if hasRanges {
                    results[position] = base[position].withBytes { rangeMatch(shard, $0, $1) }
                } else {
                    results[position] = nil
                }
            }
        )
    }

    /// Looks up every event of a decoded batch, in event order: items by GTIN and serial, logistic
    /// units by SSCC. `keys` and `results` are the caller's buffers, kept between batches so that a
    /// batch allocates nothing once they have grown to its size.
    public func lookup(_ batch: ScanBatch, keys: inout [IndexKey], into results: inout [Match?]) {
        keys.removeAll(keepingCapacity: true)
        let kinds = batch.kinds
        let numbers = batch.keys
        let serials = batch.serials
        batch.text.withUnsafeBufferPointer { text in
            for event in 0..<batch.count {
                let range = serials[event]
                let serial = UnsafeBufferPointer(rebasing: text[Int(range.start)..<Int(range.end)])
                keys.append(IndexKey(decoded: kinds[event], number: numbers[event], serial: serial))
            }
        }
        if results.count < keys.count {
            results.append(contentsOf: repeatElement(nil, count: keys.count - results.count))
        }
        keys.withUnsafeBufferPointer { keys in results.withUnsafeMutableBufferPointer { lookup(keys, into: $0) } }
    }

    /// Looks up every key of `keys`; see ``lookup(_:into:)``.
    public func lookup(_ keys: [IndexKey]) -> [Match?] {
        [Match?](unsafeUninitializedCapacity: keys.count) { results, initialized in
            results.initialize(repeating: nil)
            keys.withUnsafeBufferPointer { lookup($0, into: results) }
            initialized = keys.count
        }
    }
}

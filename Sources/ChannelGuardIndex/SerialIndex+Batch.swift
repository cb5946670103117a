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
        lookup(keys, into: results, places: nil)
    }

    /// Looks up every key of `keys` as ``lookup(_:into:)`` does, and writes to the same position of
    /// `places` where each key's own entry was found (``Place/none`` for a range match or no
    /// match), for ``record(_:at:step:region:time:)``.
    public func lookup(
        _ keys: UnsafeBufferPointer<IndexKey>,
        into results: UnsafeMutableBufferPointer<Match?>,
        places: UnsafeMutableBufferPointer<Place>?
    ) {
        precondition(results.count >= keys.count, "results must have room for every key")
        precondition((places?.count ?? keys.count) >= keys.count, "places must have room for every key")
        guard let base = keys.baseAddress, !keys.isEmpty else { return }
        let storage = MemoryLayout<IndexKey>.offset(of: \IndexKey.storage)!
        if shards.count == 1 {
            lookup(
                shard: 0,
                count: keys.count,
                base: base,
                storage: storage,
                map: nil,
                results: results,
                places: places
            )
            return
        }
        // Group positions by shard, then look each shard's keys up together.
        var positions = [[Int32]](repeating: [], count: shards.count)
        for index in keys.indices { positions[shardNumber(keys[index])].append(Int32(index)) }
        for number in shards.indices where !positions[number].isEmpty {
            positions[number].withUnsafeBufferPointer { map in
                lookup(
                    shard: number,
                    count: map.count,
                    base: base,
                    storage: storage,
                    map: map,
                    results: results,
                    places: places
                )
            }
        }
    }

    @inline(__always)
    private func lookup(
        shard number: Int,
        count: Int,
        base: UnsafePointer<IndexKey>,
        storage: Int,
        map: UnsafeBufferPointer<Int32>?,
        results: UnsafeMutableBufferPointer<Match?>,
        places: UnsafeMutableBufferPointer<Place>?
    ) {
        let shard = shards[number]
        let tree = shard.tree
        let hasRanges = shard.rangeCount > 0
        let generation = tree.generation
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
                    places?[position] = Place(shard: UInt32(number), leaf: leaf.raw, generation: generation)
                } else {
                    results[position] = hasRanges ? base[position].withBytes { rangeMatch(shard, $0, $1) } : nil
                    places?[position] = .none
                }
            }
        )
    }

    /// Looks up every event of a decoded batch, in event order: items by GTIN and serial, logistic
    /// units by SSCC. `keys` and `results` are the caller's buffers, kept between batches so that a
    /// batch allocates nothing once they have grown to its size.
    public func lookup(_ batch: ScanBatch, keys: inout [IndexKey], into results: inout [Match?]) {
        Self.keys(of: batch, into: &keys)
        Self.grow(&results, to: keys.count, with: nil)
        keys.withUnsafeBufferPointer { keys in results.withUnsafeMutableBufferPointer { lookup(keys, into: $0) } }
    }

    /// Looks up every event of a decoded batch as ``lookup(_:keys:into:)`` does, with the place of
    /// each key's own entry (see ``lookup(_:into:places:)``).
    public func lookup(_ batch: ScanBatch, keys: inout [IndexKey], into results: inout [Match?], places: inout [Place])
    {
        Self.keys(of: batch, into: &keys)
        Self.grow(&results, to: keys.count, with: nil)
        Self.grow(&places, to: keys.count, with: .none)
        keys.withUnsafeBufferPointer { keys in
            results.withUnsafeMutableBufferPointer { results in
                places.withUnsafeMutableBufferPointer { lookup(keys, into: results, places: $0) }
            }
        }
    }

    /// The index keys of a batch's events, in event order.
    static func keys(of batch: ScanBatch, into keys: inout [IndexKey]) {
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
    }

    /// Makes `buffer` at least `count` long.
    static func grow<Element>(_ buffer: inout [Element], to count: Int, with filler: Element) {
        if buffer.count < count { buffer.append(contentsOf: repeatElement(filler, count: count - buffer.count)) }
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension IndexBenchmark {
    /// Runs both structures on the same keys; the radix index first, each measured alone.
    public func run() throws -> [Result] {
        let keys = makeKeys()
        var random = SplitMix(seed: seed ^ 0x5EED)
        var order = keys
        for index in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        var results: [Result] = []
        if structures.contains("art") { results.append(try runRadix(keys, order)) }
        if structures.contains("dictionary") { results.append(runDictionary(keys, order)) }
        return results
    }

    func runRadix(_ keys: [IndexKey], _ order: [IndexKey]) throws -> Result {
        let before = Self.residentBytes()
        var index: SerialIndex? = try SerialIndex(shardCount: shards)
        let insertSeconds = try Self.seconds {
            for (number, key) in keys.enumerated() { try index!.bind(key, to: Self.binding(number)) }
        }
        let residentBeforeCompaction = Self.residentBytes() - before
        let freeBytes = index!.shards.reduce(0) { $0 + $1.bytesFree }
        // A bulk load is followed by compaction (as the loader does), which drops freed slots.
        let compactSeconds = try Self.seconds { try index!.compact() }
        let resident = Self.residentBytes() - before
        let allocated = index!.bytesUsed
        report?(
            "art before compaction: \(Double(residentBeforeCompaction) / Double(keys.count)) B/key resident, \(Double(freeBytes) / Double(keys.count)) B/key on free lists; compaction \(compactSeconds) s"
        )
        let (single, singleFound) = fastest { order.reduce(0) { $0 + (index!.lookup($1) == nil ? 0 : 1) } }
        var results = [SerialIndex.Match?](repeating: nil, count: batchSize)
        let (batched, batchFound) = fastest {
            inBatches(order) { chunk in
                results.withUnsafeMutableBufferPointer { results in
                    index!.lookup(chunk, into: results)
                    return results.prefix(chunk.count).reduce(0) { $0 + ($1 == nil ? 0 : 1) }
                }
            }
        }
        let found = min(singleFound, batchFound)
        // One file per run: runs in one process (tests) must not share it.
        let path =
            snapshotDirectory + "/channelguard-index-bench-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).snapshot"
        defer { unlink(path) }
        let saveSeconds = try Self.seconds {
            try IndexSnapshot.write(index!, to: path, watermark: 1, createdAt: 0)
        }
        let probes = Array(order.prefix(10_000))
        let expected = probes.map { index!.lookup($0) }
        index = nil
        var loaded: SerialIndex?
        let loadSeconds = try Self.seconds { loaded = try IndexSnapshot.load(from: path).0 }
        guard probes.map({ loaded!.lookup($0) }) == expected else {
            throw IndexError(.snapshotStructure, "the loaded snapshot answers differently")
        }
        return Result(
            "art",
            keys: keys.count,
            shape: shape,
            resident: resident,
            allocated: allocated,
            seconds: (single, batched, insertSeconds),
            snapshot: (saveSeconds, loadSeconds),
            compact: compactSeconds,
            found: found
        )
    }

    func runDictionary(_ keys: [IndexKey], _ order: [IndexKey]) -> Result {
        let before = Self.residentBytes()
        var dictionary: [IndexKey: SerialBinding] = [:]
        let insertSeconds = Self.seconds {
            for (number, key) in keys.enumerated() { dictionary[key] = Self.binding(number) }
        }
        let resident = Self.residentBytes() - before
        // Buckets × (key + value) plus one bit per bucket: what the dictionary allocates.
        let allocated =
            dictionary.capacity * 4 / 3 * (MemoryLayout<IndexKey>.stride + MemoryLayout<SerialBinding>.stride)
        let (single, singleFound) = fastest { order.reduce(0) { $0 + (dictionary[$1] == nil ? 0 : 1) } }
        var results = [SerialBinding?](repeating: nil, count: batchSize)
        let (batched, batchFound) = fastest {
            inBatches(order) { chunk in
                results.withUnsafeMutableBufferPointer { results in
                    for position in chunk.indices { results[position] = dictionary[chunk[position]] }
                    return results.prefix(chunk.count).reduce(0) { $0 + ($1 == nil ? 0 : 1) }
                }
            }
        }
        let found = min(singleFound, batchFound)
        return Result(
            "dictionary",
            keys: keys.count,
            shape: shape,
            resident: resident,
            allocated: allocated,
            seconds: (single, batched, insertSeconds),
            snapshot: nil,
            compact: nil,
            found: found
        )
    }

    /// The fastest of ``rounds`` timed passes, and the fewest keys a pass found.
    func fastest(_ pass: () -> Int) -> (seconds: Double, found: Int) {
        var best = Double.infinity
        var found = Int.max
        for _ in 0..<rounds {
            var count = 0
            best = min(best, Self.seconds { count = pass() })
            found = min(found, count)
        }
        return (best, found)
    }

    /// Calls `body` with each run of ``batchSize`` keys of `keys`; returns the sum of its answers.
    func inBatches(_ keys: [IndexKey], _ body: (UnsafeBufferPointer<IndexKey>) -> Int) -> Int {
        keys.withUnsafeBufferPointer { all in
            var total = 0
            var start = 0
            while start < all.count {
                total += body(UnsafeBufferPointer(rebasing: all[start..<min(start + batchSize, all.count)]))
                start += batchSize
            }
            return total
        }
    }
}

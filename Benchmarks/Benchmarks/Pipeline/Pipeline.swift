import Benchmark
import ChannelGuardCodes
import ChannelGuardIngest

/// A shard's per-event rollup counting: a flush job's cell table filled with one batch's cells,
/// as at 1 M events/s under the load generator (about 13,000 events a batch, nearly every one a
/// cell of its own, so the table — 32,768 slots of 56 bytes — is larger than a core's L2 cache).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 100_000
    )
    let eventsPerBatch = 13_000
    let frame = 512
    var state: UInt64 = 7
    func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    let steps: [ScanStep] = [.receive, .inspect]
    let batches: [[RollupKey]] = (0..<8).map { _ in
        (0..<eventsPerBatch).map { _ in
            RollupKey(
                hour: 1_795_435_200,
                distributor: Int64(next() % 2_000 + 1),
                city: UInt32(110_100 + next() % 300 * 100),
                gtin: 6_901_234_000_000 + next() % 200,
                step: steps[Int(next() % 2)],
                inTerritory: true
            )
        }
    }
    var cursor = 0

    Benchmark("Rollup cells, a batch of 13,000 events added one at a time") { benchmark in
        for _ in benchmark.scaledIterations {
            var cells = RollupCells(minimumCapacity: eventsPerBatch)
            for key in batches[cursor & 7] { cells.add(key, 1) }
            cursor &+= 1
            blackHole(cells.count)
        }
    }

    Benchmark("Rollup cells, a batch of 13,000 events added a frame at a time, prefetched") { benchmark in
        for _ in benchmark.scaledIterations {
            var cells = RollupCells(minimumCapacity: eventsPerBatch)
            batches[cursor & 7].withUnsafeBufferPointer { keys in
                for start in stride(from: 0, to: keys.count, by: frame) {
                    cells.addOne(each: UnsafeBufferPointer(rebasing: keys[start..<min(keys.count, start + frame)]))
                }
            }
            cursor &+= 1
            blackHole(cells.count)
        }
    }
}

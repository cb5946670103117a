import Benchmark
import ChannelGuardIndex

/// The serial index at a size that fits this harness (1M random serials, against a Dictionary keyed
/// by the same `IndexKey`), per batch of 1,024 lookups; `channelguard index bench` covers 10M–50M.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 100_000
    )
    var setup = IndexBenchmark(keys: 1_000_000, shape: .random)
    setup.seed = 5
    let keys = setup.makeKeys()
    let index = try! SerialIndex()
    var dictionary: [IndexKey: SerialBinding] = [:]
    let binding = try! SerialBinding(distributor: 1, shipment: 1, boundAt: 1_780_000_000_000)
    for key in keys {
        try! index.bind(key, to: binding)
        dictionary[key] = binding
    }
    try! index.compact()
    // Batches of 1,024 keys drawn across the whole key set, as a decoded batch's serials are.
    let batches = (0..<64).map { batch in (0..<1_024).map { keys[($0 &* 7_919 &+ batch &* 104_729) % keys.count] } }
    var results = [SerialIndex.Match?](repeating: nil, count: 1_024)
    var cursor = 0

    Benchmark("Index batched lookup, 1M random serials x1024") { benchmark in
        for _ in benchmark.scaledIterations {
            let batch = batches[cursor & 63]
            cursor &+= 1
            batch.withUnsafeBufferPointer { keys in
                results.withUnsafeMutableBufferPointer { index.lookup(keys, into: $0) }
            }
            blackHole(results[0])
        }
    }

    // A scan's state is recorded after its batch was looked up: walking the tree again per key, or
    // starting at the place the batched lookup found the key.
    var places = [SerialIndex.Place](repeating: .none, count: 1_024)
    Benchmark("Index batched lookup then record by key, 1M random serials x1024") { benchmark in
        for _ in benchmark.scaledIterations {
            let batch = batches[cursor & 63]
            cursor &+= 1
            batch.withUnsafeBufferPointer { keys in
                results.withUnsafeMutableBufferPointer { index.lookup(keys, into: $0) }
            }
            for (event, key) in batch.enumerated() where results[event] != nil {
                blackHole(
                    try? index.record(key, step: .inspect, region: 440_305, time: 1_790_000_000_000 + Int64(event))
                )
            }
        }
    }

    Benchmark("Index batched lookup then record at place, 1M random serials x1024") { benchmark in
        for _ in benchmark.scaledIterations {
            let batch = batches[cursor & 63]
            cursor &+= 1
            batch.withUnsafeBufferPointer { keys in
                results.withUnsafeMutableBufferPointer { results in
                    places.withUnsafeMutableBufferPointer { index.lookup(keys, into: results, places: $0) }
                }
            }
            for (event, key) in batch.enumerated() where results[event] != nil {
                blackHole(
                    try? index.record(
                        key,
                        at: places[event],
                        step: .inspect,
                        region: 440_305,
                        time: 1_790_000_000_000 + Int64(event)
                    )
                )
            }
        }
    }

    Benchmark("Index single lookups, 1M random serials x1024") { benchmark in
        for _ in benchmark.scaledIterations {
            for key in batches[cursor & 63] { blackHole(index.lookup(key)) }
            cursor &+= 1
        }
    }

    Benchmark("Dictionary lookups, 1M random serials x1024") { benchmark in
        for _ in benchmark.scaledIterations {
            for key in batches[cursor & 63] { blackHole(dictionary[key]) }
            cursor &+= 1
        }
    }
}

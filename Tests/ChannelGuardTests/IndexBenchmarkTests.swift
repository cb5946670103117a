import Testing

@testable import ChannelGuardIndex

/// `channelguard index bench` at a small size: both structures find every key, the figures are
/// there and plausible, and the JSON carries the fields the issue names. (Speed itself is judged
/// by running the command, never here.)
@Suite struct IndexBenchmarkTests {
    @Test(arguments: IndexBenchmark.Shape.allCases)
    func smallRunFindsEveryKey(shape: IndexBenchmark.Shape) throws {
        var benchmark = IndexBenchmark(keys: 20_000, shape: shape)
        benchmark.rounds = 1
        let results = try benchmark.run()
        #expect(results.map(\.structure) == ["art", "dictionary"])
        for result in results {
            #expect(result.keys == 20_000)
            #expect(result.found == 20_000, "\(result.structure) found \(result.found)")
            #expect(result.lookupsPerSecond > 0 && result.batchedLookupsPerSecond > 0 && result.insertsPerSecond > 0)
            #expect(result.allocatedBytesPerKey > 16)  // at least the value
            let json = result.json
            for field in [
                "structure", "keys", "shape", "bytes_per_key", "lookups_per_s", "batched_lookups_per_s",
                "inserts_per_s",
            ] {
                #expect(json.contains("\"\(field)\":"), "\(field) missing from \(json)")
            }
            #expect(json.contains("\"snapshot_load_keys_per_s\":") == (result.structure == "art"))
            #expect(json.contains("\"snapshot_save_s\":") == (result.structure == "art"))
        }
    }

    @Test func keysHaveTheirShape() {
        var random = IndexBenchmark(keys: 1_000, shape: .random)
        random.seed = 3
        let randomKeys = random.makeKeys()
        #expect(Set(randomKeys).count == 1_000)
        #expect(randomKeys.allSatisfy { (12...20).contains($0.serial.count) })
        let sequential = IndexBenchmark(keys: 1_000, shape: .sequential).makeKeys()
        #expect(Set(sequential).count == 1_000)
        #expect(sequential.allSatisfy { $0.serial.count == 12 && $0.serial.allSatisfy { (0x30...0x39).contains($0) } })
        // Printed runs: consecutive numbers within a GTIN.
        let first = Int(String(decoding: sequential[0].serial, as: UTF8.self))!
        let second = Int(String(decoding: sequential[1].serial, as: UTF8.self))!
        #expect(second == first + 1)
    }
}

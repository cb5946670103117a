import ChannelGuardCodes
import ChannelGuardCommerce
import Testing

@testable import ChannelGuardIndex

/// Recording scans at the places a batched lookup gave against recording them by key, on two
/// indexes given the same work: parts of scans mixed with binds of new serials, unbinds, rebinds
/// and compaction, so that many places go stale between their lookup and their use.
@Suite struct SerialIndexPlacesTests {
    static let gtins: [UInt64] = [6_901_234_567_892, 9_501_101_020_917]

    static func binding(_ distributor: Int64) -> SerialBinding {
        try! SerialBinding(distributor: distributor, shipment: distributor * 10, boundAt: 1_780_000_000_000)
    }

    static func key(_ number: Int) -> IndexKey {
        try! IndexKey(gtin: gtins[number % 2], serial: Array("S\(number)".utf8))
    }

    @Test(arguments: [1, 3])
    func recordingAtPlacesMatchesRecordingByKey(shards: Int) throws {
        let byPlace = try SerialIndex(shardCount: shards)
        let byKey = try SerialIndex(shardCount: shards)
        var generator = SplitMix64(seed: UInt64(shards))
        for index in [byPlace, byKey] {
            for number in 0..<2_000 { try index.bind(Self.key(number), to: Self.binding(Int64(number % 7 + 1))) }
            // Serials S3000… are bound only through a range: their first scan adds a leaf.
            try index.bindRange(gtin: Self.gtins[0], prefix: Array("S30".utf8), to: Self.binding(9))
        }
        var keys: [IndexKey] = []
        var matches: [SerialIndex.Match?] = []
        var places: [SerialIndex.Place] = []
        var fastRecords = 0
        for part in 0..<300 {
            keys = (0..<64).map { _ in Self.key(Int.random(in: 0..<3_200, using: &generator)) }
            matches = Array(repeating: nil, count: keys.count)
            places = Array(repeating: .none, count: keys.count)
            keys.withUnsafeBufferPointer { keys in
                matches.withUnsafeMutableBufferPointer { matches in
                    places.withUnsafeMutableBufferPointer { byPlace.lookup(keys, into: matches, places: $0) }
                }
            }
            #expect(matches == byKey.lookup(keys))
            for (event, key) in keys.enumerated() {
                let time = 1_790_000_000_000 + Int64(part * 64 + event) * 60_000
                let region = UInt32(110_101 + event % 50)
                switch Int.random(in: 0..<20, using: &generator) {
                case 0:
                    // A new serial: the shard's shape changes, its places go stale.
                    let added = Self.key(10_000 + part * 64 + event)
                    for index in [byPlace, byKey] { try index.bind(added, to: Self.binding(3)) }
                case 1:
                    let gone = Self.key(Int.random(in: 0..<2_000, using: &generator))
                    for index in [byPlace, byKey] { index.unbind(gone) }
                case 2:
                    for index in [byPlace, byKey] { _ = index.rebind(key, to: Self.binding(5)) }
                default:
                    let shape = byPlace.shards.map(\.tree.generation)
                    let atPlace = try byPlace.record(key, at: places[event], step: .sell, region: region, time: time)
                    if !places[event].isNone && byPlace.shards.map(\.tree.generation) == shape { fastRecords += 1 }
                    let atKey = try byKey.record(key, step: .sell, region: region, time: time)
                    #expect(atPlace == atKey)
                }
            }
            if part % 50 == 49 { for index in [byPlace, byKey] { try index.compact() } }
        }
        // Every serial, range, stale place and compaction through, both indexes agree.
        let everything = (0..<3_200).map(Self.key) + (0..<300 * 64).map { Self.key(10_000 + $0) }
        #expect(byPlace.lookup(everything) == byKey.lookup(everything))
        #expect(byPlace.count == byKey.count)
        // Most records took the fast path, and some fell back.
        #expect(fastRecords > 5_000)
    }

    @Test func aPlaceIsOnlyForTheKeysOwnEntry() throws {
        let index = try SerialIndex()
        try index.bind(Self.key(1), to: Self.binding(1))
        try index.bindRange(gtin: Self.gtins[0], prefix: Array("S9".utf8), to: Self.binding(2))
        let keys = [Self.key(1), Self.key(90), Self.key(5)]
        var matches = [SerialIndex.Match?](repeating: nil, count: 3)
        var places = [SerialIndex.Place](repeating: .none, count: 3)
        keys.withUnsafeBufferPointer { keys in
            matches.withUnsafeMutableBufferPointer { matches in
                places.withUnsafeMutableBufferPointer { index.lookup(keys, into: matches, places: $0) }
            }
        }
        #expect(!places[0].isNone && places[1].isNone && places[2].isNone)
        #expect(matches.map { $0?.source } == [.serial, .range, nil])
        // After a compaction the place is stale: the record walks the tree and still lands.
        try index.compact()
        let before = try index.record(keys[0], at: places[0], step: .activate, region: 440_305, time: 1_790_000_000_000)
        #expect(before?.binding.lastStep == nil)
        #expect(index.lookup(keys[0])?.binding.lastStep == .activate)
        #expect(index.lookup(keys[0])?.binding.lastRegion == 440_305)
    }
}

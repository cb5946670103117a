import ChannelGuardCodes
import Testing

@testable import ChannelGuardIndex

/// What a lookup answers, case by case: ranges by longest prefix, a serial's own binding first,
/// cartons and their contents, scan state, and keys refused at the door.
@Suite struct SerialIndexSemanticsTests {
    static let gtin: UInt64 = 6_901_234_567_892
    static let other: UInt64 = 9_501_101_020_917

    static func binding(_ distributor: Int64) -> SerialBinding {
        try! SerialBinding(distributor: distributor, shipment: distributor * 10, boundAt: 1_780_000_000_000)
    }

    static func key(_ serial: String, gtin: UInt64 = gtin) -> IndexKey {
        try! IndexKey(gtin: gtin, serial: Array(serial.utf8))
    }

    @Test func longestRangeWinsAndTheSerialsOwnBindingWinsOverAll() throws {
        let index = try SerialIndex(shardCount: 3)
        try index.bindRange(gtin: Self.gtin, prefix: Array("A".utf8), to: Self.binding(1))
        try index.bindRange(gtin: Self.gtin, prefix: Array("A12".utf8), to: Self.binding(2))
        try index.bindRange(gtin: Self.gtin, prefix: Array("A1234".utf8), to: Self.binding(3))
        try index.bind(Self.key("A12345"), to: Self.binding(4))
        func owner(_ serial: String, gtin: UInt64 = Self.gtin) -> Int64? {
            index.lookup(Self.key(serial, gtin: gtin))?.binding.distributor
        }
        #expect(owner("A") == 1)  // a serial equal to a prefix is in its range
        #expect(owner("B") == nil)
        #expect(owner("A1") == 1)
        #expect(owner("A12") == 2)
        #expect(owner("A123") == 2)
        #expect(owner("A1234") == 3)
        #expect(owner("A12340") == 3)
        #expect(owner("A12345") == 4)
        #expect(index.lookup(Self.key("A12345"))?.source == .serial)
        #expect(index.lookup(Self.key("A12346"))?.source == .range)
        #expect(owner("A123456789") == 3)
        #expect(owner("A1", gtin: Self.other) == nil)  // ranges belong to one GTIN
        // Removing the inner range falls back to the next longest.
        try index.unbindRange(gtin: Self.gtin, prefix: Array("A1234".utf8))
        #expect(owner("A12340") == 2)
        #expect(owner("A12345") == 4)
        index.unbind(Self.key("A12345"))
        #expect(owner("A12345") == 2)
        #expect(
            index.lookup([Self.key("A12345"), Self.key("A9"), Self.key("Z")]).map { $0?.binding.distributor } == [
                2, 1, nil,
            ]
        )
    }

    @Test func aScanOfARangeSerialGetsItsOwnState() throws {
        let index = try SerialIndex()
        try index.bindRange(gtin: Self.gtin, prefix: Array("RUN7".utf8), to: Self.binding(5))
        let serial = Self.key("RUN7000123")
        let before = try #require(try index.record(serial, step: .sell, region: 440_305, time: 1_790_000_000_000))
        #expect(before.source == .range)
        #expect(before.binding.lastStep == nil)
        let after = try #require(index.lookup(serial))
        #expect(after.source == .serial)
        #expect(after.binding.distributor == 5)
        #expect(after.binding.flags.contains(.fromRange) && after.binding.flags.contains(.sold))
        #expect(after.binding.lastRegion == 440_305 && after.binding.lastStep == .sell)
        let minute: Int64 = 1_790_000_000_000 / 60_000 * 60_000
        #expect(after.binding.lastTime == minute)
        // Its neighbours still answer from the range, with no state.
        #expect(index.lookup(Self.key("RUN7000124"))?.binding.lastStep == nil)
        #expect(try index.record(Self.key("NOPE1"), step: .sell, region: 440_305, time: 0) == nil)
    }

    @Test func cartonsBindTheirContentsAndMoveThemTogether() throws {
        let index = try SerialIndex(shardCount: 4)
        let units = (1...6).map { Self.key("C\($0)") }
        let inner: UInt64 = 106_141_411_234_567_880
        let pallet: UInt64 = 106_141_411_234_567_897
        try index.bindCarton(sscc: inner, contents: Array(units[0..<3]), to: Self.binding(7))
        try index.bindCarton(
            sscc: pallet,
            contents: [try IndexKey(sscc: inner)] + Array(units[3...]),
            to: Self.binding(8)
        )
        // The pallet took the inner carton and its contents along.
        for unit in units { #expect(index.lookup(unit)?.binding.distributor == 8) }
        #expect(index.lookup(try IndexKey(sscc: inner))?.source == .carton)
        #expect(index.lookup(try IndexKey(sscc: pallet))?.binding.distributor == 8)
        #expect(try index.contents(sscc: inner) == Array(units[0..<3]))
        // A transfer of the pallet moves everything, keeping scan state.
        try index.record(units[0], step: .activate, region: 110_105, time: 1_790_000_000_000)
        #expect(try index.rebindCarton(sscc: pallet, to: Self.binding(9)))
        for unit in units { #expect(index.lookup(unit)?.binding.distributor == 9) }
        #expect(index.lookup(units[0])?.binding.flags.contains(.activated) == true)
        #expect(index.lookup(units[0])?.binding.lastRegion == 110_105)
        #expect(try index.rebindCarton(sscc: 376_104_250_021_234_569, to: Self.binding(9)) == false)
        // Unbinding the pallet unbinds all of it.
        #expect(try index.unbindCarton(sscc: pallet)?.distributor == 9)
        #expect(index.count == 0)
    }

    /// A decoded line-protocol batch looks up in event order: serials, a range serial, a carton's
    /// SSCC, and codes that were never bound.
    @Test func aDecodedBatchLooksUpInEventOrder() throws {
        let index = try SerialIndex(shardCount: 3)
        try index.bind(Self.key("K100"), to: Self.binding(1))
        try index.bind(Self.key("K101", gtin: Self.other), to: Self.binding(2))
        try index.bindRange(gtin: Self.gtin, prefix: Array("RUN".utf8), to: Self.binding(3))
        try index.bindCarton(sscc: 106_141_411_234_567_897, contents: [Self.key("K100")], to: Self.binding(4))
        let lines = [
            "sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)K100",
            "sell 440305 2026-11-23T12:00:01Z (01)09501101020917(21)K101",
            "receive 110105 2026-11-23T12:00:02Z (01)06901234567892(21)RUN42",
            "receive 110105 2026-11-23T12:00:03Z (00)106141411234567897",
            "sell 440305 2026-11-23T12:00:04Z (01)06901234567892(21)NEVER",
            "sell 440305 2026-11-23T12:00:05Z (01)09501101020917(21)K100",
        ].joined(separator: "\n")
        var batch = ScanBatch()
        Array(lines.utf8).withUnsafeBufferPointer { LineProtocolDecoder().decode($0, into: &batch) }
        try #require(batch.count == 6 && batch.rejections.isEmpty)
        var keys: [IndexKey] = []
        var results: [SerialIndex.Match?] = []
        index.lookup(batch, keys: &keys, into: &results)
        #expect(results.prefix(6).map { $0?.binding.distributor } == [4, 2, 3, 4, nil, nil])
        #expect(results.prefix(6).map { $0?.source } == [.serial, .serial, .range, .carton, nil, nil])
        #expect(keys.prefix(3) == [Self.key("K100"), Self.key("K101", gtin: Self.other), Self.key("RUN42")])
    }

    @Test func keysAreCheckedBeforeTheyReachTheTree() {
        #expect(throws: IndexError.self) { try IndexKey(gtin: 6_901_234_567_893, serial: Array("A".utf8)) }
        #expect(throws: IndexError.self) { try IndexKey(gtin: 6_901_234_567_892, serial: []) }
        #expect(throws: IndexError.self) { try IndexKey(gtin: 6_901_234_567_892, serial: Array("A B".utf8)) }
        #expect(throws: IndexError.self) {
            try IndexKey(gtin: 6_901_234_567_892, serial: Array(repeating: 0x41, count: 21))
        }
        #expect(throws: IndexError.self) { try IndexKey(sscc: 106_141_411_234_567_898) }
        #expect(throws: IndexError.self) { try SerialBinding(distributor: 1 << 20, shipment: 1, boundAt: 0) }
        #expect(throws: IndexError.self) { try SerialBinding(distributor: 1, shipment: 1 << 28, boundAt: 0) }
        let error = #expect(throws: IndexError.self) {
            try SerialIndex().bind(try IndexKey.range(gtin: Self.gtin, prefix: Array("A".utf8)), to: Self.binding(1))
        }
        #expect(error?.code == .invalidKey)
    }

    @Test func bindingFieldsRoundTripAtTheirWidths() throws {
        var binding = try SerialBinding(distributor: 1_048_575, shipment: 268_435_455, boundAt: 4_000_000_000_000)
        #expect(binding.distributor == 1_048_575 && binding.shipment == 268_435_455)
        #expect(binding.boundAt == 4_000_000_000_000 / 60_000 * 60_000)
        binding.record(step: .return, region: 659_004, time: 4_100_000_000_000)
        #expect(binding.lastStep == .return && binding.lastRegion == 659_004)
        let minute: Int64 = 4_100_000_000_000 / 60_000 * 60_000
        #expect(binding.lastTime == minute)
        #expect(binding.distributor == 1_048_575 && binding.shipment == 268_435_455)
        // Times before 2020 are stored as 2020-01-01.
        #expect(try SerialBinding(distributor: 1, shipment: 1, boundAt: 0).boundAt == SerialBinding.epochMilliseconds)
    }
}

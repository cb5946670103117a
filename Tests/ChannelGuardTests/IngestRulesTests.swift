import ChannelGuardCodes
import ChannelGuardDetection
import ChannelGuardIndex
import ChannelGuardIngest
import ChannelGuardTerritory
import Testing

/// The detection rules on their own (no I/O), the acknowledgement state machine, and the event
/// log's batch format.
@Suite struct IngestRulesTests {
    static let dealer: Int64 = 7
    static let other: Int64 = 9
    static let gtin: UInt64 = 6_901_234_567_892
    static let t0: Int64 = 1_795_435_200_000  // 2026-11-23T12:00:00Z

    static let reference = ReferenceData(
        grants: [
            dealer: [
                .init(region: RegionCode("440300")!),  // Shenzhen
                // A temporary grant: Guangzhou, for one day either side of t0.
                .init(region: RegionCode("440100")!, from: t0 - 86_400_000, to: t0 + 86_400_000),
            ]
        ],
        distributorIDs: ["DEALER": dealer, "OTHER": other],
        floors: [gtin: [.init(region: nil, minimum: 100_000), .init(region: RegionCode("440000")!, minimum: 120_000)]]
    )

    func check(_ scan: ScanRules.Scan, _ binding: SerialBinding?) -> (Bool, [ScanRules.Finding]) {
        var findings: [ScanRules.Finding] = []
        let inside = ScanRules().check(scan, binding: binding, reference: Self.reference, into: &findings)
        return (inside, findings)
    }

    func bound(_ flags: SerialBinding.Flags = []) throws -> SerialBinding {
        try SerialBinding(distributor: Self.dealer, shipment: 1, boundAt: Self.t0 - 1_000_000, flags: flags)
    }

    func scan(
        _ step: ScanStep,
        _ region: UInt32,
        at time: Int64 = t0,
        price: Int64 = -1,
        party: Int64? = nil
    ) -> ScanRules.Scan {
        ScanRules.Scan(step: step, region: region, time: time, kind: .item, key: Self.gtin, price: price, party: party)
    }

    @Test func insideTheTerritoryRaisesNothing() throws {
        let (inside, findings) = check(scan(.sell, 440305, price: 130_000), try bound())
        #expect(inside && findings.isEmpty)
    }

    @Test func severityGrowsWithDistance() throws {
        // Another city of the same province after the temporary Guangzhou grant has ended.
        let later = Self.t0 + 2 * 86_400_000
        let (inside, city) = check(scan(.sell, 440103, at: later, price: 130_000), try bound())
        #expect(!inside && city.map(\.rule) == [.outOfTerritory] && city[0].severity == .medium)
        // While the temporary grant is in force, Guangzhou is inside.
        #expect(check(scan(.sell, 440103, price: 130_000), try bound()).1.isEmpty)
        // Beijing: another province, far beyond 1,000 km.
        let far = check(scan(.activate, 110105), try bound()).1
        #expect(far.map(\.rule) == [.outOfTerritory] && far[0].severity == .critical)
        #expect((far[0].distanceKilometres ?? 0) > 1_500)
        #expect(far[0].territory.contains(440300))
    }

    @Test func unknownCodes() {
        #expect(check(scan(.inspect, 440305), nil).1.map(\.rule) == [.unknownCode])
    }

    @Test func secondSaleAndSecondActivationAreDuplicates() throws {
        #expect(check(scan(.sell, 440305, price: 130_000), try bound(.sold)).1.map(\.rule) == [.duplicate])
        #expect(check(scan(.activate, 440305), try bound(.activated)).1.map(\.rule) == [.duplicate])
        #expect(check(scan(.activate, 440305), try bound(.sold)).1.isEmpty)
    }

    @Test func impossibleTravelIsAClone() throws {
        var binding = try bound()
        binding.record(step: .inspect, region: 440305, time: Self.t0)
        // Shenzhen → Guangzhou (about 100 km) in 10 minutes: below the tolerance, no clone.
        #expect(check(scan(.inspect, 440103, at: Self.t0 + 600_000), binding).1.isEmpty)
        // Shenzhen → Beijing in 30 minutes.
        let findings = check(scan(.inspect, 110105, at: Self.t0 + 1_800_000), binding).1
        #expect(findings.map(\.rule) == [.outOfTerritory, .duplicate])
        #expect(findings[1].previousRegion == 440305 && findings[1].severity == .critical)
        // The same trip in two days is travel, not a clone.
        #expect(check(scan(.inspect, 110105, at: Self.t0 + 2 * 86_400_000), binding).1.map(\.rule) == [.outOfTerritory])
    }

    @Test func receivingByAnotherDistributor() throws {
        #expect(check(scan(.receive, 440305, party: Self.other), try bound()).1.map(\.rule) == [.notConsignee])
        #expect(check(scan(.receive, 440305, party: Self.dealer), try bound()).1.isEmpty)
    }

    @Test func priceFloorsMostSpecificRegionWins() throws {
        // Guangdong's floor (1,200.00) applies in Shenzhen, not the national 1,000.00.
        let low = check(scan(.sell, 440305, price: 110_000), try bound()).1
        #expect(low.map(\.rule) == [.priceBelowFloor] && low[0].floor == 120_000)
        #expect(check(scan(.sell, 440305, price: 120_000), try bound()).1.isEmpty)
        #expect(check(scan(.sell, 440305), try bound()).1.isEmpty)  // no price reported
    }

    @Test func aRegionOutsideTheCatalogueIsUnknownAndTheSerialIsStillChecked() throws {
        // 449999 has a region code's shape; the catalogue has no such region.
        let (inside, findings) = check(scan(.sell, 449999, price: 130_000), try bound())
        #expect(!inside && findings.map(\.rule) == [.unknownRegion])
        #expect(check(scan(.inspect, 449999), nil).1.map(\.rule) == [.unknownRegion, .unknownCode])
        #expect(
            check(scan(.sell, 449999, price: 130_000), try bound(.sold)).1.map(\.rule) == [.unknownRegion, .duplicate]
        )
    }

    @Test func receivingByAPartyThatIsNoDistributor() throws {
        var receive = scan(.receive, 440305)
        receive.unknownParty = "NOBODY"
        let findings = check(receive, try bound()).1
        #expect(findings.map(\.rule) == [.notConsignee])
        #expect(findings[0].detail.contains("NOBODY"))
    }

    @Test func aUnitWhoseOwnerHoldsNoGrantThenIsNoTerritory() throws {
        let orphan = try SerialBinding(distributor: Self.other, shipment: 1, boundAt: Self.t0 - 1_000_000)
        let findings = check(scan(.sell, 440305, price: 130_000), orphan).1
        #expect(findings.map(\.rule) == [.noTerritory])
        // The dealer's temporary Guangzhou grant has ended, Shenzhen is still in force: that is
        // out of territory, not no territory.
        let later = Self.t0 + 2 * 86_400_000
        #expect(check(scan(.sell, 440103, at: later, price: 130_000), try bound()).1.map(\.rule) == [.outOfTerritory])
    }

    @Test func anUnshippedUnitSoldBelowTheFloorRaisesBoth() {
        #expect(check(scan(.sell, 440305, price: 50_000), nil).1.map(\.rule) == [.unknownCode, .priceBelowFloor])
    }

    @Test func stepWireCodesRoundTrip() {
        for step in ScanStep.allCases { #expect(BinaryFrame.step(code: BinaryFrame.stepCode(step)) == step) }
        #expect(Set(ScanStep.allCases.map(BinaryFrame.stepCode)).count == ScanStep.allCases.count)
        #expect(BinaryFrame.step(code: 6) == nil)
    }

    @Test func rollupDeltasRoundTrip() {
        let cells: [RollupKey: Int64] = [
            RollupKey(
                hour: 1_795_435_200,
                distributor: 7,
                city: 440300,
                gtin: 6_901_234_567_892,
                step: .sell,
                inTerritory: true
            ): 3,
            RollupKey(
                hour: 1_795_435_200,
                distributor: 7,
                city: 110100,
                gtin: 6_901_234_567_892,
                step: .inspect,
                inTerritory: false
            ): 1,
        ]
        var merged = RollupCells()
        #expect(RollupDeltas.merge(RollupDeltas.encode(RollupCells(cells)), into: &merged))
        #expect(RollupDeltas.merge(RollupDeltas.encode(RollupCells(cells)), into: &merged))
        #expect(merged.dictionary == cells.mapValues { $0 * 2 })
        #expect(!RollupDeltas.merge([1, 2, 3], into: &merged))
    }

    /// The stored layout, byte by byte: deltas written by earlier versions must stay readable.
    @Test func rollupDeltaLayoutIsFixed() {
        let key = RollupKey(
            hour: 0x0102_0304_0506_0708,
            distributor: 0x1112_1314_1516_1718,
            city: 0x2122_2324,
            gtin: 0x3132_3334_3536_3738,
            step: .sell,
            inTerritory: true
        )
        let bytes = RollupDeltas.encode(RollupCells([key: 0x4142_4344]))
        #expect(
            bytes == [
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
                0x24, 0x23, 0x22, 0x21, 0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31,
                BinaryFrame.stepCode(.sell), 1, 0x44, 0x43, 0x42, 0x41,
            ]
        )
        #expect(RollupDeltas.encode(RollupCells()).isEmpty)
        // Counts beyond 32 bits are clamped, not wrapped.
        #expect(RollupDeltas.encode(RollupCells([key: 1 << 40])).suffix(4) == [0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func acknowledgementsWaitForEveryShardInOrder() {
        var tracker = AckTracker(shards: 2)
        #expect(tracker.accepted(gateway: 1, sequence: 1, shards: 0b11, rejectedRecords: 0) == nil)
        #expect(tracker.accepted(gateway: 1, sequence: 2, shards: 0b01, rejectedRecords: 3) == nil)
        #expect(tracker.committed(shard: 0, gateway: 1, through: 2) == nil)  // frame 1 still waits for shard 1
        #expect(tracker.committed(shard: 1, gateway: 1, through: 1) == FrameAckDue(sequence: 2, rejectedRecords: 3))
        #expect(tracker.outstanding == 0)
        // A frame with no events (all records rejected) needs no commit, but waits its turn.
        #expect(tracker.accepted(gateway: 1, sequence: 3, shards: 0b10, rejectedRecords: 0) == nil)
        #expect(tracker.accepted(gateway: 1, sequence: 4, shards: 0, rejectedRecords: 5) == nil)
        #expect(tracker.committed(shard: 1, gateway: 1, through: 3) == FrameAckDue(sequence: 4, rejectedRecords: 5))
        #expect(
            tracker.accepted(gateway: 1, sequence: 5, shards: 0, rejectedRecords: 0)
                == FrameAckDue(sequence: 5, rejectedRecords: 0)
        )
    }

    /// One connection carrying two gateways' frames: their sequences are not compared. Gateway 2's
    /// frame 5 is not durable because gateway 1's frame 9 committed on the same shard.
    @Test func acknowledgementsTrackEachGatewayOfAConnection() {
        var tracker = AckTracker(shards: 2)
        #expect(tracker.accepted(gateway: 1, sequence: 9, shards: 0b01, rejectedRecords: 0) == nil)
        #expect(tracker.accepted(gateway: 2, sequence: 5, shards: 0b01, rejectedRecords: 0) == nil)
        #expect(tracker.committed(shard: 0, gateway: 1, through: 9) == FrameAckDue(sequence: 9, rejectedRecords: 0))
        #expect(tracker.outstanding == 1)
        #expect(tracker.committed(shard: 1, gateway: 2, through: 5) == nil)  // another shard's commit
        #expect(tracker.committed(shard: 0, gateway: 2, through: 5) == FrameAckDue(sequence: 5, rejectedRecords: 0))
        #expect(tracker.outstanding == 0)
    }

    @Test func logFormatRoundTripsAndRefusesDamage() throws {
        var batch = ScanBatch()
        let lines = Array(
            """
            sell 440305 2026-11-23T20:00:00+08:00 (01)06901234567892(21)A1B2 price=1999.00 party=ST-440305 device=POS-7 seq=9
            ship 440305 1795435200000 (00)106141411234567897 party=DEALER lat=22.5 lon=113.9
            """.utf8
        )
        // The pointer is used inside the closure only (returning it would let it dangle).
        lines.withUnsafeBufferPointer { LineProtocolDecoder().decode($0, into: &batch) }
        try #require(batch.count == 2)
        var second = ScanBatch()
        second.append(eventAt: 0, of: batch)
        let payload = ScanLogFormat.payload([(batch, 7), (second, 8)])
        let (back, gateways) = try ScanBatch.fromLogPayload(payload)
        #expect(gateways == [7, 7, 8])
        #expect((0..<3).map(back.line(at:)) == [0, 1, 0].map(batch.line(at:)))
        #expect(
            back.line(at: 0)
                == "sell 440305 1795435200000 (01)06901234567892(21)A1B2 price=1999.00 party=ST-440305 device=POS-7 seq=9"
        )
        for cut in [0, 5, 17, payload.count - 1] {
            #expect(throws: ScanLogFormat.Malformed.self) { try ScanBatch.fromLogPayload(Array(payload[..<cut])) }
        }
        var badStep = payload
        badStep[16] = 9
        #expect(throws: ScanLogFormat.Malformed.self) { try ScanBatch.fromLogPayload(badStep) }
        // The reserved header bytes are written as zero; anything else is not a payload this
        // writer made (it would not re-encode to itself).
        for reserved in 5..<8 {
            var marked = payload
            marked[reserved] = 1
            #expect(throws: ScanLogFormat.Malformed.self) { try ScanBatch.fromLogPayload(marked) }
        }
    }
}

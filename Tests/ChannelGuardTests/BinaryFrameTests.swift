import ChannelGuardCodes
import ChannelGuardCommerce
import Testing

@Suite struct BinaryFrameTests {
    let secret = Array("gateway-7-secret-0123456789abcdef".utf8)
    var decoder: BinaryFrameDecoder {
        let secret = secret
        return BinaryFrameDecoder { $0 == 7 ? secret : nil }
    }
    var encoder: BinaryFrameEncoder { BinaryFrameEncoder(gatewayID: 7, secret: secret) }

    /// Random valid events, every optional field sometimes present.
    static func randomBatch(count: Int, using random: inout some RandomNumberGenerator) -> ScanBatch {
        let cset82 = Array("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".utf8)
        let regions: [UInt32] = [110_000, 110_105, 440_300, 440_305, 652_901]
        var batch = ScanBatch()
        for _ in 0..<count {
            let item = Bool.random(using: &random)
            let dataDigits = (0..<(item ? 13 : 17)).map { _ in String(Int.random(in: 0...9, using: &random)) }.joined()
            let check = GS1CheckDigit.compute(forDataDigits: dataDigits)!
            var event = ScanBatch.Event(
                step: ScanStep.allCases.randomElement(using: &random)!,
                region: regions.randomElement(using: &random)!,
                time: Int64.random(in: 0...4_102_444_800_000, using: &random),
                kind: item ? .item : .logisticUnit,
                key: UInt64(dataDigits + String(check))!
            )
            if item {
                event.serial = ArraySlice(
                    (0..<Int.random(in: 1...20, using: &random)).map { _ in cset82.randomElement(using: &random)! }
                )
            }
            if Bool.random(using: &random) { event.price = Int64.random(in: 0...10_000_000, using: &random) }
            if Bool.random(using: &random) { event.party = ArraySlice("ST-440305".utf8) }
            if Bool.random(using: &random) {
                event.device = ArraySlice("POS-\(Int.random(in: 1...999, using: &random))".utf8)
            }
            if Bool.random(using: &random) { event.sequence = UInt64.random(in: 1...UInt64.max, using: &random) }
            if Bool.random(using: &random) {
                event.latitude = Int32.random(in: -90_000_000...90_000_000, using: &random)
                event.longitude = Int32.random(in: -180_000_000...180_000_000, using: &random)
            }
            batch.append(event, record: Int32(batch.count))
        }
        return batch
    }

    static func sameEvents(_ a: ScanBatch, _ b: ScanBatch) -> Bool {
        a.steps == b.steps && a.regions == b.regions && a.times == b.times && a.kinds == b.kinds && a.keys == b.keys
            && a.prices == b.prices && a.sequences == b.sequences && a.latitudes == b.latitudes
            && a.longitudes == b.longitudes && a.serials.map(a.string) == b.serials.map(b.string)
            && a.parties.map(a.string) == b.parties.map(b.string) && a.devices.map(a.string) == b.devices.map(b.string)
    }

    func decode(_ frame: [UInt8], into batch: inout ScanBatch) -> Result<BinaryFrame.Header, CodeRejection> {
        frame.withUnsafeBufferPointer { decoder.decode($0, into: &batch) }
    }

    @Test(arguments: [false, true])
    func randomFramesRoundTrip(compressed: Bool) throws {
        var random = SystemRandomNumberGenerator()
        for round in 0..<50 {
            let original = Self.randomBatch(count: Int.random(in: 0...300, using: &random), using: &random)
            let frame = try encoder.encode(original, sequence: UInt64(round), compress: compressed)
            #expect(frame.withUnsafeBufferPointer { BinaryFrame.frameLength(prefix: $0) } == frame.count)
            var decoded = ScanBatch()
            let header = try decode(frame, into: &decoded).get()
            #expect(header.gatewayID == 7 && header.sequence == UInt64(round) && header.recordCount == original.count)
            #expect(decoded.rejections.isEmpty)
            #expect(Self.sameEvents(original, decoded))
        }
    }

    @Test func aFrameThatFailsAuthenticationIsRejectedWhole() throws {
        var random = SystemRandomNumberGenerator()
        let frame = try encoder.encode(Self.randomBatch(count: 20, using: &random), sequence: 1)
        for index in [4, 9, 30, frame.count - 1] {  // version, gateway, payload, tag
            var tampered = frame
            tampered[index] ^= 0x01
            var batch = ScanBatch()
            guard case .failure(let rejection) = decode(tampered, into: &batch) else {
                Issue.record("a frame altered at byte \(index) was accepted")
                continue
            }
            #expect([.badSignature, .unsupportedVersion, .unknownGateway].contains(rejection.reason))
            #expect(batch.count == 0 && batch.rejections.isEmpty, "nothing of a rejected frame reaches the batch")
        }
        let stranger = BinaryFrameEncoder(gatewayID: 7, secret: Array("another-secret-entirely-000000000".utf8))
        var batch = ScanBatch()
        let forged = try stranger.encode(Self.randomBatch(count: 3, using: &random), sequence: 2)
        #expect(throws: CodeRejection.self) { try decode(forged, into: &batch).get() }
        let unknown = try BinaryFrameEncoder(gatewayID: 8, secret: secret).encode(ScanBatch(), sequence: 1)
        #expect((try? decode(unknown, into: &batch).get()) == nil)
        if case .failure(let rejection) = decode(unknown, into: &batch) { #expect(rejection.reason == .unknownGateway) }
    }

    @Test func malformedFramesAreNamed() throws {
        var batch = ScanBatch()
        func reason(_ bytes: [UInt8]) -> CodeRejection.Reason? {
            if case .failure(let rejection) = decode(bytes, into: &batch) { return rejection.reason }
            return nil
        }
        #expect(reason([]) == .badFrame)
        #expect(reason([0, 0, 0, 4, 1, 0, 0, 0]) == .badFrame)
        var frame = try encoder.encode(ScanBatch(), sequence: 1)
        frame[3] &+= 1  // length field off by one
        #expect(reason(frame) == .badFrame)
        var extraFlags = try encoder.encode(ScanBatch(), sequence: 1)
        extraFlags[5] = 0x80
        #expect(reason(extraFlags) == .badFrame)
        var future = try encoder.encode(ScanBatch(), sequence: 1)
        future[4] = 2
        #expect(reason(future) == .unsupportedVersion)
        // The flags are covered by the tag: switching zstd on in transit breaks the signature.
        var flagged = try encoder.frame(payload: [1, 2, 3, 4], recordCount: 1, sequence: 1, compress: false)
        flagged[5] = BinaryFrame.Flags.zstd.rawValue
        #expect(reason(flagged) == .badSignature)
        // A correctly signed frame that claims zstd but whose body is not zstd.
        let notZstd = encoder.signedFrame(body: [0xFF, 0xFF, 0xFF], flags: .zstd, recordCount: 1, sequence: 1)
        #expect(reason(notZstd) == .badFrame)
        #expect(batch.count == 0 && batch.rejections.isEmpty)
    }

    @Test func badRecordsAreRejectedBesideGoodOnes() throws {
        var random = SystemRandomNumberGenerator()
        var events = Self.randomBatch(count: 3, using: &random)
        var bad = ScanBatch.Event(step: .sell, region: 440_005, time: 0, kind: .item, key: 6_901_234_567_892)
        bad.serial = ArraySlice("S1".utf8)
        events.append(bad, record: 3)  // region shape
        var badGTIN = ScanBatch.Event(step: .sell, region: 440_305, time: 0, kind: .item, key: 6_901_234_567_893)
        badGTIN.serial = ArraySlice("S2".utf8)
        events.append(badGTIN, record: 4)
        let tail = Self.randomBatch(count: 2, using: &random)
        // One frame holding all seven records: three good, two bad, two good.
        var combined = events
        for index in 0..<tail.count {
            var event = ScanBatch.Event(
                step: tail.steps[index],
                region: tail.regions[index],
                time: tail.times[index],
                kind: tail.kinds[index],
                key: tail.keys[index]
            )
            event.serial = ArraySlice(tail.text[Int(tail.serials[index].start)..<Int(tail.serials[index].end)])
            combined.append(event, record: Int32(5 + index))
        }
        let frame = try encoder.encode(combined, sequence: 3)
        var decoded = ScanBatch()
        let header = try decode(frame, into: &decoded).get()
        #expect(header.recordCount == 7)
        #expect(decoded.count == 5)
        #expect(decoded.records == [0, 1, 2, 5, 6])
        #expect(decoded.rejections.map(\.record) == [3, 4])
        #expect(decoded.rejections.map(\.rejection.reason) == [.badRegion, .badCheckDigit])
    }

    /// Random 14- and 18-digit keys (and some too long): a record is refused for its check digit
    /// exactly when the GS1 rule on the key's digits says it is wrong.
    @Test func keyCheckDigitsFollowTheGS1Rule() throws {
        var random = SplitMix64(seed: 14)
        var events = ScanBatch()
        var expected: [Bool] = []
        for record in 0..<2_000 {
            let item = record % 2 == 0
            let digits = item ? 14 : 18
            let dataDigits = (0..<(digits - 1)).map { _ in String(Int.random(in: 0...9, using: &random)) }.joined()
            var key = UInt64(dataDigits + String(GS1CheckDigit.compute(forDataDigits: dataDigits)!))!
            switch record % 5 {
            case 0: key = key / 10 * 10 + (key % 10 + UInt64.random(in: 1...9, using: &random)) % 10  // wrong digit
            case 1: key += (item ? 100_000_000_000_000 : 1_000_000_000_000_000_000)  // one digit too many
            default: break
            }
            let text = String(key)
            let valid =
                text.count <= digits
                && GS1CheckDigit.isValid(String(repeating: "0", count: digits - text.count) + text)
            expected.append(valid)
            var event = ScanBatch.Event(
                step: .sell,
                region: 440_305,
                time: 0,
                kind: item ? .item : .logisticUnit,
                key: key
            )
            if item { event.serial = ArraySlice("S\(record)".utf8) }
            events.append(event, record: Int32(record))
        }
        let frame = try encoder.encode(events, sequence: 9)
        var decoded = ScanBatch()
        _ = try decode(frame, into: &decoded).get()
        #expect(decoded.records == expected.indices.filter { expected[$0] }.map(Int32.init))
        #expect(decoded.rejections.allSatisfy { $0.rejection.reason == .badCheckDigit })
        #expect(expected.contains(false) && expected.contains(true))
    }

    /// Party codes follow the line protocol's rule in binary records too.
    @Test func partyCodesFollowTheLineRule() throws {
        var events = ScanBatch()
        for (index, party) in ["-ST1", "ST-1", "st1", "ST_1", String(repeating: "A", count: 33)].enumerated() {
            var event = ScanBatch.Event(step: .sell, region: 440_305, time: 0, kind: .item, key: 6_901_234_567_892)
            event.serial = ArraySlice("S\(index)".utf8)
            event.party = ArraySlice(party.utf8)
            events.append(event, record: Int32(index))
        }
        var decoded = ScanBatch()
        _ = try decode(try encoder.encode(events, sequence: 4), into: &decoded).get()
        #expect(decoded.records == [1, 3])
        #expect(decoded.rejections.map(\.record) == [0, 2, 4])
        #expect(decoded.rejections.allSatisfy { $0.rejection.reason == .badField })
    }

    @Test func aRecordCutShortEndsTheFrame() throws {
        var random = SystemRandomNumberGenerator()
        let good = Self.randomBatch(count: 2, using: &random)
        let frame = try encoder.encode(good, sequence: 1)
        let payload = Array(frame[BinaryFrame.headerBytes..<(frame.count - BinaryFrame.tagBytes)])
        // Claim four records but send two and the start of a third.
        let cut = try encoder.frame(payload: payload + [2, 1, 0, 6], recordCount: 4, sequence: 1, compress: false)
        var decoded = ScanBatch()
        _ = try decode(cut, into: &decoded).get()
        #expect(decoded.count == 2)
        #expect(decoded.rejections.map(\.record) == [2, 3])
        #expect(decoded.rejections.allSatisfy { $0.rejection.reason == .badRecord })
        // Bytes after the last record are named too.
        let trailing = try encoder.frame(payload: payload + [9, 9], recordCount: 2, sequence: 1, compress: false)
        var second = ScanBatch()
        _ = try decode(trailing, into: &second).get()
        #expect(second.count == 2 && second.rejections.map(\.rejection.reason) == [.badRecord])
    }

    @Test func acknowledgementsRoundTrip() {
        for ack in [
            FrameAcknowledgement.durable(through: 42, rejectedRecords: 3),
            .rejected(7, because: .badSignature),
            .rejected(UInt64.max, because: .unknownGateway),
        ] {
            let bytes = ack.encoded
            #expect(bytes.count == FrameAcknowledgement.encodedBytes)
            #expect(bytes.withUnsafeBufferPointer { FrameAcknowledgement(decoding: $0) } == ack)
        }
        #expect(FrameAcknowledgement.rejected(1, because: .badSignature).reason == 4)
        #expect([UInt8](repeating: 0, count: 20).withUnsafeBufferPointer { FrameAcknowledgement(decoding: $0) } == nil)
    }
}

import ChannelGuardCodes
import ChannelGuardCommerce
import Foundation
import Testing

@Suite struct LineProtocolDecoderTests {
    let decoder = LineProtocolDecoder()

    func decodeLine(_ text: String) -> Result<LineProtocolDecoder.Line, CodeRejection> {
        var text = text
        return text.withUTF8 { decoder.decodeLine($0) }
    }

    func rejection(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> CodeRejection? {
        if case .failure(let rejection) = decodeLine(text) { return rejection }
        Issue.record("accepted \(text.debugDescription)", sourceLocation: sourceLocation)
        return nil
    }

    @Test func aFullLineFillsEveryColumn() throws {
        let line =
            "sell 440305 2026-11-23T20:00:00.25+08:00 (01)06901234567892(21)A1B2 price=1999.5 party=ST-440305 "
            + "device=POS-7 seq=42 lat=22.53 lon=-113.930001\r"
        var batch = ScanBatch()
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBufferPointer { decoder.decode(UnsafeBufferPointer($0), into: &batch) }
        try #require(batch.count == 1, "\(batch.rejections)")
        #expect(batch.steps == [.sell] && batch.regions == [440_305])
        #expect(batch.times == [1_795_435_200_250])
        #expect(batch.kinds == [.item] && batch.keys == [6_901_234_567_892])
        #expect(batch.string(batch.serials[0]) == "A1B2" && batch.string(batch.parties[0]) == "ST-440305")
        #expect(batch.string(batch.devices[0]) == "POS-7")
        #expect(batch.prices == [199_950] && batch.sequences == [42])
        #expect(batch.latitudes == [22_530_000] && batch.longitudes == [-113_930_001])
    }

    /// `decodeLine` drops a trailing CR as its documentation says, also when the code is the last field.
    @Test func decodeLineDropsATrailingCR() {
        guard
            case .success(.event(let event, let code)) = decodeLine(
                "sell 440305 1795435200000 (01)06901234567892(21)A1\r"
            )
        else {
            Issue.record("a line ending in CR was not decoded")
            return
        }
        #expect(Array(event.serial) == Array("A1".utf8) && code.key == .item(gtin: "06901234567892", serial: "A1"))
    }

    @Test func badLinesAreRejectedAndTheirNeighboursGoThrough() {
        let text = """
            # gateway 7
            sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)S1
            sell 440305 2026-11-23T12:00:00Z (01)06901234567893(21)S2

            receive 440305 1795435200000 https://id.example.com/01/06901234567892/21/S3
            ship 440305 2026-11-23T12:00:00Z urn:epc:id:sscc:0614141.1234567890 party=CD-4403
            sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)S4 colour=red
            """
        var batch = ScanBatch()
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { decoder.decode(UnsafeBufferPointer($0), into: &batch, firstRecord: 100) }
        #expect(batch.count == 3)
        #expect(batch.records == [101, 104, 105])
        #expect(batch.kinds == [.item, .item, .logisticUnit])
        #expect(batch.keys[2] == 106_141_412_345_678_908)
        #expect(batch.rejections.map(\.record) == [102, 106])
        #expect(batch.rejections.map(\.rejection.reason) == [.badCheckDigit, .unknownField])
        #expect(batch.rejections[0].rejection.offset == 33 + 17)  // inside the line, at the check digit
        batch.removeAll()
        #expect(batch.count == 0 && batch.rejections.isEmpty && batch.text.isEmpty)
    }

    @Test func everyRequiredFieldIsChecked() {
        let code = "(01)06901234567892(21)S1"
        #expect(rejection("sold 440305 2026-11-23T12:00:00Z \(code)")?.reason == .badStep)
        #expect(rejection("sell 44030 2026-11-23T12:00:00Z \(code)")?.reason == .badRegion)
        #expect(rejection("sell 440005 2026-11-23T12:00:00Z \(code)")?.reason == .badRegion)
        #expect(rejection("sell 440305000001 2026-11-23T12:00:00Z \(code)")?.reason == .badRegion)
        #expect(rejection("sell 440305 2026-11-23 \(code)")?.reason == .badTime)
        #expect(rejection("sell 440305 2026-11-23T24:00:00Z \(code)")?.reason == .badTime)
        #expect(rejection("sell 440305 2026-11-23T12:00:00 \(code)")?.reason == .badTime)  // no zone
        #expect(rejection("sell 440305 2026-11-23T12:00:00Z")?.reason == .missingField)
        #expect(rejection("sell 440305 2026-11-23T12:00:00Z (01)06901234567892")?.reason == .notSerialised)
    }

    @Test func optionalFieldsAreChecked() {
        let base = "sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)S1 "
        #expect(rejection(base + "price=19.999")?.reason == .badField)
        #expect(rejection(base + "price=-1")?.reason == .badField)
        #expect(rejection(base + "party=st-1")?.reason == .badField)
        #expect(rejection(base + "lat=91")?.reason == .badField)
        #expect(rejection(base + "lon=180.0000001")?.reason == .badField)
        #expect(rejection(base + "seq=18446744073709551616")?.reason == .badField)
        #expect(rejection(base + "seq=1 seq=2")?.reason == .duplicateField)
        #expect(rejection(base + "=1")?.reason == .badField)
        let unknown = rejection(base + "colour=red")
        #expect(unknown?.reason == .unknownField && unknown?.offset == base.utf8.count)
    }

    @Test func limitsBoundTheWork() {
        let long =
            "sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)S1 device=" + String(repeating: "x", count: 1_000)
        #expect(rejection(long)?.reason == .lineTooLong)
        let many = "sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)S1" + String(repeating: " seq=1", count: 13)
        #expect(rejection(many)?.reason == .tooManyFields)
    }

    @Test func commentsBlanksAndTabs() throws {
        if case .success(.skipped) = decodeLine("# a comment") {} else { Issue.record("comment not skipped") }
        if case .success(.skipped) = decodeLine("  \t\r") {} else { Issue.record("blank not skipped") }
        if case .success(.event) = decodeLine("inspect\t440305\t1795435200000\t(00)106141411234567897") {
        } else {
            Issue.record("tab-separated line rejected")
        }
    }

    /// A datagram's lines share what they repeat (the last date read, the last AI sequence that
    /// passed the association rules): decoding them together gives exactly what decoding each line
    /// alone gives, with dates and AI sets that change, repeat, or are wrong right after a good one.
    @Test(arguments: [11, 12])
    func linesDecodedTogetherMatchLinesDecodedAlone(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let dates = ["2026-11-23", "2026-11-24", "2026-02-29", "2028-02-29", "2026-13-01", "1969-12-31"]
        let codes = [
            "(01)06901234567892(21)A1", "(01)06901234567892(21)B2(10)L1", "(21)A1", "(01)06901234567892",
            "(01)06901234567892(21)A1(235)X", "(00)069012345678901231", "(02)06901234567892(21)A1",
            "]d20106901234567892\u{1D}21C3", "(01)06901234567892(21)A1(10)L1(17)261231(21)A1",
        ]
        for _ in 0..<50 {
            let lines = (0..<Int.random(in: 1...60, using: &random)).map { _ in
                let time = dates.randomElement(using: &random)! + "T12:\(Int.random(in: 10...59, using: &random)):00Z"
                return "sell 440305 \(time) \(codes.randomElement(using: &random)!) price=1.00"
            }
            var together = ScanBatch()
            var bytes = Array(lines.joined(separator: "\n").utf8)
            bytes.withUnsafeMutableBufferPointer { decoder.decode(UnsafeBufferPointer($0), into: &together) }
            var accepted = 0
            for (number, line) in lines.enumerated() {
                let rejected = together.rejections.first { $0.record == Int32(number) }?.rejection
                switch decodeLine(line) {
                case .success(.event(let event, _)):
                    #expect(rejected == nil, "\(line)")
                    guard rejected == nil, accepted < together.count else { continue }
                    let found = together.event(at: accepted)
                    #expect(found.time == event.time && found.key == event.key && found.serial == event.serial)
                    accepted += 1
                case .success(.skipped): Issue.record("skipped \(line)")
                case .failure(let alone): #expect(rejected == alone, "\(line)")
                }
            }
            #expect(accepted == together.count)
        }
    }
}

@Suite struct ScanTimeTests {
    func parse(_ text: String) throws -> Int64 {
        var text = text
        return try text.withUTF8 { buffer throws(CodeRejection) in try ScanTime.parse(buffer, offset: 0) }
    }

    @Test func agreesWithFoundation() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let ms = Int64.random(in: 0...4_102_444_800_000, using: &generator)  // 1970–2100
            let text = ScanTime.format(milliseconds: ms)
            #expect(try parse(text) == ms, "\(text)")
            let date = try #require(formatter.date(from: text))
            #expect(Int64((date.timeIntervalSince1970 * 1_000).rounded()) == ms)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` has a one-pass reader; it agrees with the general parser, and what
    /// it refuses still gets the general parser's precise rejection.
    @Test func theWholeSecondFormAgreesWithTheGeneralOne() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let ms = Int64.random(in: 0...4_102_444_800, using: &generator) * 1_000
            let general = ScanTime.format(milliseconds: ms)  // with ".000Z": the general parser
            let short = general.replacingOccurrences(of: ".000Z", with: "Z")
            #expect(short.utf8.count == 20)
            #expect(try parse(short) == ms && parse(general) == ms, "\(short)")
        }
        for bad in [
            "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-23T24:00:00Z",
            "2026-11-23T23:60:00Z", "2026-11-23T23:59:60Z", "1969-12-31T23:59:59Z", "2026-11-2xT00:00:00Z",
        ] {
            #expect(throws: CodeRejection.self, "\(bad)") { try parse(bad) }
        }
    }

    @Test func offsetsAndFractions() throws {
        #expect(try parse("2026-11-23T20:00:00+08:00") == 1_795_435_200_000)
        #expect(try parse("2026-11-23T11:30:00-00:30") == 1_795_435_200_000)
        #expect(try parse("2026-11-23t12:00:00.123456789z") == 1_795_435_200_123)
        #expect(try parse("2028-02-29T00:00:00Z") == 1_835_395_200_000)
        #expect(throws: CodeRejection.self) { try parse("2027-02-29T00:00:00Z") }
        #expect(throws: CodeRejection.self) { try parse("2026-11-23T12:00:00.Z") }
        #expect(throws: CodeRejection.self) { try parse("1969-12-31T23:59:59Z") }
        #expect(throws: CodeRejection.self) { try parse("1234567890123456") }
    }
}

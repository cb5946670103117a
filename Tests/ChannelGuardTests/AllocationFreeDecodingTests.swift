import ChannelGuardCodes
import ChannelGuardCommerce
import Foundation
import Testing

/// The allocation-free decoding paths (codes read into spans, lines into field positions) agree with
/// the general decoders that build strings.
@Suite struct AllocationFreeDecodingTests {
    let codes = CodeDecoder()

    func decodeKey(_ text: String) -> Result<ScannedKey, CodeRejection> {
        var text = text
        return text.withUTF8 { codes.elementStrings.decodeKey($0) }
    }

    /// Both paths give the same verdict: the same key, or the same reason at the same offset.
    func expectAgreement(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let general = codes.elementStrings.decode(text)
        let scanned = decodeKey(text)
        switch (general, scanned) {
        case (.success(let code), .success(let key)):
            var text = text
            let serial = text.withUTF8 { String(decoding: $0[key.serial], as: UTF8.self) }
            switch code.key {
            case .item(let gtin, let expected):
                #expect(
                    key.kind == .item && key.key == UInt64(gtin) && serial == expected,
                    sourceLocation: sourceLocation
                )
            case .logisticUnit(let sscc):
                #expect(
                    key.kind == .logisticUnit && key.key == UInt64(sscc) && serial.isEmpty,
                    sourceLocation: sourceLocation
                )
            }
        case (.failure(let expected), .failure(let rejection)):
            #expect(rejection == expected, sourceLocation: sourceLocation)
        default:
            Issue.record(
                "the paths disagree on \(text.debugDescription): \(general) vs \(scanned)",
                sourceLocation: sourceLocation
            )
        }
    }

    @Test func handPickedCodes() {
        for text in [
            "(01)06901234567892(21)A1B2", "]d20106901234567892\u{1D}21K1000000001\u{1D}17261231",
            "0106901234567892 21A1B2", "(00)106141411234567897", "]C1(01)06901234567892(21)A(B)", "(01)06901234567892",
            "(01)06901234567893(21)A1", "(21)A1", "(99)X", "(01)06901234567892(21)A1(21)A2", "]Z1(01)0690",
            "(01)06901234567892(21)A1(01)06901234567892", "(00)106141411234567897(01)06901234567892(21)X", "",
        ] {
            expectAgreement(text)
        }
    }

    /// Random single-byte mutations of valid codes: both paths reach the same verdict every time.
    @Test(arguments: [1, 2, 3])
    func mutatedCodes(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let valid = [
            "(01)06901234567892(21)A1B2(17)261231(10)LOT-7", "]d20106901234567892\u{1D}21K100\u{1D}17261231",
            "(00)106141411234567897", "]Q3010690123456789221SER/1\u{1D}3103000750",
        ]
        let alphabet = Array("0123456789()]dQC1A/\u{1D} %-".utf8)
        for _ in 0..<2_000 {
            var bytes = Array(valid.randomElement(using: &random)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                }
                if bytes.isEmpty { bytes = [UInt8(ascii: "(")] }
            }
            expectAgreement(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func aCodeCarriesAtMostMaximumElementsAIs() throws {
        let plain = AITable.standard.definitions.values.sorted { $0.ai < $1.ai }.filter {
            $0.components.count == 1 && $0.components[0].characterSet == .numeric && $0.components[0].linters.isEmpty
                && $0.minimumLength == $0.maximumLength
        }
        try #require(plain.count > ElementStringDecoder.maximumElements)
        let chosen = plain.prefix(ElementStringDecoder.maximumElements + 1)
        let text = chosen.map { "(\($0.ai))" + String(repeating: "1", count: $0.maximumLength) }.joined()
        guard case .failure(let rejection) = codes.decode(text) else {
            Issue.record("accepted \(chosen.count) AIs")
            return
        }
        #expect(rejection.reason == .tooManyAIs)
        #expect(rejection.offset == text.utf8.count - (chosen.last!.maximumLength + chosen.last!.ai.utf8.count + 1))
        expectAgreement(text)
        // One fewer is not refused for its number (it fails later, for missing requisites or not naming a unit).
        let fewer = chosen.dropLast().map { "(\($0.ai))" + String(repeating: "1", count: $0.maximumLength) }.joined()
        if case .failure(let rejection) = codes.decode(fewer) { #expect(rejection.reason != .tooManyAIs) }
    }

    @Test func stepAndFieldNamesAreMatchedExactly() {
        func bytes<T>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
            var text = text
            return text.withUTF8(body)
        }
        for step in ScanStep.allCases {
            #expect(bytes(step.rawValue) { ScanStep(bytes: $0) } == step)
            #expect(bytes(step.rawValue.uppercased()) { ScanStep(bytes: $0) } == nil)
            #expect(bytes(step.rawValue + "s") { ScanStep(bytes: $0) } == nil)
            #expect(bytes(String(step.rawValue.dropLast())) { ScanStep(bytes: $0) } == nil)
        }
        for bad in ["", "sel", "sell\0", "ship\0\0\0\0", "activated", "\u{0}ship"] {
            #expect(bytes(bad) { ScanStep(bytes: $0) } == nil, "\(bad.debugDescription)")
        }
        let line = LineProtocolDecoder()
        for name in ["price", "party", "device", "seq", "lat", "lon"] {
            var text = "sell 440305 1795435200000 (01)06901234567892(21)A \(name)="
            let rejection = text.withUTF8 { buffer -> CodeRejection? in
                if case .failure(let rejection) = line.decodeLine(buffer) { return rejection }
                return nil
            }
            #expect(rejection?.reason == .badField, "\(name) is a known field")
            text = "sell 440305 1795435200000 (01)06901234567892(21)A \(name.uppercased())=1"
            let unknown = text.withUTF8 { buffer -> CodeRejection? in
                if case .failure(let rejection) = line.decodeLine(buffer) { return rejection }
                return nil
            }
            #expect(unknown?.reason == .unknownField)
        }
    }

    /// Lines whose code is a URI take the general decoder; their serials reach the batch decoded.
    @Test func uriSerialsReachTheBatchDecoded() throws {
        let text = """
            sell 440305 1795435200000 https://id.example.com/01/06901234567892/21/A%2FB%25 party=ST-1
            sell 440305 1795435200000 urn:epc:id:sgtin:0690123.045678.S%2F9 device=POS
            sell 440305 1795435200000 (01)06901234567892(21)PLAIN
            """
        var batch = ScanBatch()
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { LineProtocolDecoder().decode(UnsafeBufferPointer($0), into: &batch) }
        try #require(batch.count == 3, "\(batch.rejections)")
        #expect(batch.serials.map(batch.string) == ["A/B%", "S/9", "PLAIN"])
        #expect(batch.parties.map(batch.string) == ["ST-1", "", ""])
        #expect(batch.devices.map(batch.string) == ["", "POS", ""])
    }
}

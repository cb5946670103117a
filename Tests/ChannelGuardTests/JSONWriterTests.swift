import ChannelGuardCodes
import ChannelGuardCommerce
import Foundation
import Testing

/// The byte-span JSON writer against the scalar-at-a-time quoting it replaced, and the decode
/// tool's zero-copy path against the decoded code's own JSON, byte for byte.
@Suite struct JSONWriterTests {
    /// The quoting the writer replaced: one Unicode scalar at a time.
    static func reference(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test func quotesAsTheScalarWriterDid() throws {
        var random = SplitMix64(seed: 11)
        let alphabet: [Unicode.Scalar] = [
            "a", "Z", "0", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "竄", "貨", "😀", " ", "/",
        ]
        for length in 0..<200 {
            let text = String(
                String.UnicodeScalarView(
                    (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
                )
            )
            #expect(JSONText.quote(text) == Self.reference(text))
        }
        // And it is JSON: a decoder reads the same text back.
        let tricky = "say \"hi\"\\\n\t\u{1}end 竄貨"
        let decoded = try JSONDecoder().decode([String].self, from: Data("[\(JSONText.quote(tricky))]".utf8))
        #expect(decoded == [tricky])
    }

    static func fastJSON(_ code: [UInt8], memo: inout CodeDecoder.Memo) -> String {
        var writer = JSONWriter()
        code.withUnsafeBufferPointer { CodeDecoder().writeJSON(of: $0, into: &writer, memo: &memo) }
        return writer.text
    }

    static func slowJSON(_ code: [UInt8]) -> String {
        switch code.withUnsafeBufferPointer({ CodeDecoder().decode($0) }) {
        case .success(let decoded): decoded.json
        case .failure(let rejection): rejection.json
        }
    }

    @Test func theZeroCopyPathWritesWhatTheDecodedCodeWrites() throws {
        var inputs: [[UInt8]] = [
            "(01)06901234567892(21)A1B2", "(01)06901234567892(21)A\"B", "(01)06901234567892(17)261231(10)LOT1(21)S1",
            "(00)106141411234567897", "(21)S1(01)06901234567892", "(01)06901234567892", "(01)06901234567893(21)X",
            "]d2010690123456789221A1B2\u{1D}10LOT", "https://id.example.com/01/06901234567892/21/A1B2",
            "urn:epc:id:sgtin:0690123.456789.A1B2", "", "(", "(99)x", "]C1", "(01)0690123456789(21)X",
        ].map { Array($0.utf8) }
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/code")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? [] {
            if let data = FileManager.default.contents(atPath: corpus.appendingPathComponent(name).path) {
                inputs.append([UInt8](data))
            }
        }
        #expect(inputs.count > 20)
        // One memo across all of them, as the decode tool keeps it: remembered rules never change
        // an answer.
        var memo = CodeDecoder.Memo()
        for input in inputs + inputs.reversed() {
            #expect(
                Self.fastJSON(input, memo: &memo) == Self.slowJSON(input),
                "\(String(decoding: input, as: UTF8.self))"
            )
        }
    }
}

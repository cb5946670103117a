import ChannelGuardCodes
import Foundation
import Testing

/// The worked examples in docs/protocol.md are what the encoder produces.
@Suite struct ProtocolDocumentTests {
    static let document: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/protocol.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// The bytes of the hex-dump lines (`00000000: 00 01 …  text`) in the code block after `marker`.
    static func dumpedBytes(after marker: String) -> [UInt8] {
        guard let start = document.range(of: marker) else { return [] }
        var bytes: [UInt8] = []
        for line in document[start.upperBound...].split(separator: "\n").prefix(20) {
            guard line.count > 10, line.dropFirst(8).hasPrefix(": ") else {
                if !bytes.isEmpty { break }
                continue
            }
            let hex = line.dropFirst(10).prefix(48)
            bytes += hex.split(separator: " ").compactMap { UInt8($0, radix: 16) }
        }
        return bytes
    }

    @Test func theWorkedFrameIsTheEncodersOutput() throws {
        var line = Array(
            "sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)A1B2 price=1999.00 party=ST-440305".utf8
        )
        var batch = ScanBatch()
        line.withUnsafeMutableBufferPointer { LineProtocolDecoder().decode(UnsafeBufferPointer($0), into: &batch) }
        let frame = try BinaryFrameEncoder(gatewayID: 7, secret: Array(0...15)).encode(batch, sequence: 1)
        let documented = Self.dumpedBytes(after: "--dump one.txt")
        #expect(documented.count == 102)
        #expect(documented == frame)
    }

    @Test func theWorkedAcknowledgementIsTheEncodersOutput() {
        let documented = Self.dumpedBytes(after: "An acknowledgement that this frame is durable")
        #expect(documented == FrameAcknowledgement.durable(through: 1).encoded)
    }
}

import ArgumentParser
import ChannelGuardCodes
import ChannelGuardCommerce
import ChannelGuardLoad
import ChannelGuardTerritory
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `channelguard send`: the reference sender, and a worked example of both protocols.
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send scans to a ChannelGuard daemon over UDP or TCP, as protocol lines or binary frames.",
        discussion: """
            Scans come from line-protocol files (or standard input), or --generate N makes N valid \
            scans of demo-network serials. Binary frames are signed with --secret (hex) for \
            --gateway-id; over TCP the sender waits for the acknowledgement of each frame. \
            --dump prints what would be sent, as hex, instead of sending (see docs/protocol.md).
            """
    )

    enum WireProtocol: String, ExpressibleByArgument, CaseIterable {
        case line, binary
    }

    @Option(help: "host:port of the daemon.")
    var to = "127.0.0.1:7700"

    @Option(help: "udp or tcp.")
    var transport: String = "tcp"

    @Option(name: .customLong("protocol"), help: "line or binary.")
    var wireProtocol: WireProtocol = .line

    @Option(name: .customLong("gateway-id"), help: "The gateway id binary frames carry.")
    var gatewayID: UInt32 = 1

    @Option(help: "The gateway's HMAC secret, in hex (binary frames).")
    var secret: String?

    @Option(name: .customLong("first-sequence"), help: "The sequence number of the first frame.")
    var firstSequence: UInt64 = 1

    @Option(name: .customLong("records-per-frame"), help: "Records in each binary frame.")
    var recordsPerFrame = 100

    @Flag(help: "Compress binary frame payloads with zstd.")
    var zstd = false

    @Option(help: "Generate this many scans of demo-network serials instead of reading files.")
    var generate: Int?

    @Option(
        name: .customLong("demo-diversion"),
        help:
            "Send this many sale scans of demo-network serials in provinces outside their distributors' territories (alerts)."
    )
    var demoDiversion: Int?

    @Flag(help: "Print the bytes as hex instead of sending them.")
    var dump = false

    @Argument(help: "Line-protocol files; standard input when none.")
    var files: [String] = []

    func validate() throws {
        guard ClientSocket.Transport(rawValue: transport) != nil else {
            throw ValidationError("--transport is udp or tcp")
        }
        guard (1...BinaryFrame.maximumRecords).contains(recordsPerFrame) else {
            throw ValidationError("--records-per-frame must be 1–\(BinaryFrame.maximumRecords)")
        }
        if wireProtocol == .binary, secretBytes == nil {
            throw ValidationError("binary frames need --secret HEX (16–64 bytes)")
        }
        if let generate, generate < 0 { throw ValidationError("--generate must not be negative") }
        if let demoDiversion, demoDiversion < 0 { throw ValidationError("--demo-diversion must not be negative") }
        if generate != nil, demoDiversion != nil {
            throw ValidationError("--generate and --demo-diversion exclude each other")
        }
    }

    var secretBytes: [UInt8]? {
        guard let secret, (32...128).contains(secret.count) else { return nil }
        return Hex.decode(secret)
    }

    func run() throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let lines =
            try generate.map(Self.generatedLines) ?? demoDiversion.map { Self.divertedLines($0, at: now) }
            ?? readLines()
        let messages = try wireProtocol == .line ? lineDatagrams(lines) : frames(lines)
        if dump {
            for message in messages { print(HexDump.format(message)) }
            return
        }
        let parts = to.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--to is host:port") }
        let socket = try ClientSocket(
            host: String(parts[0]),
            port: port,
            transport: ClientSocket.Transport(rawValue: transport)!
        )
        var acknowledged = 0
        var rejected = 0
        for message in messages {
            try socket.send(message)
            if wireProtocol == .binary, socket.transport == .tcp {
                guard let bytes = socket.receive(exactly: FrameAcknowledgement.encodedBytes),
                    let ack = bytes.withUnsafeBufferPointer({ FrameAcknowledgement(decoding: $0) })
                else { throw SendError("no acknowledgement after \(acknowledged + rejected) frames") }
                if ack.kind == .durable { acknowledged += 1 } else { rejected += 1 }
            }
        }
        let unit = wireProtocol == .line ? (socket.transport == .udp ? "datagrams" : "writes") : "frames"
        print("sent \(lines.count) scans in \(messages.count) \(unit) to \(to)", terminator: "")
        print(
            wireProtocol == .binary && socket.transport == .tcp
                ? "; \(acknowledged) acknowledged, \(rejected) rejected" : ""
        )
    }

    private func readLines() throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for path in files.isEmpty ? ["-"] : files {
            let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw ValidationError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            defer { if descriptor != STDIN_FILENO { close(descriptor) } }
            var reader = LineReader(descriptor: descriptor)
            try reader.forEachLine { lines.append(Array($0)) }
        }
        return lines
    }

    /// Lines packed into datagrams of at most 1,400 bytes (UDP), or one write per 64 KiB (TCP).
    private func lineDatagrams(_ lines: [[UInt8]]) -> [[UInt8]] {
        let limit = transport == "udp" ? 1_400 : 65_536
        var messages: [[UInt8]] = []
        var current: [UInt8] = []
        for line in lines {
            if !current.isEmpty, current.count + line.count + 1 > limit {
                messages.append(current)
                current = []
            }
            current += line + [UInt8(ascii: "\n")]
        }
        if !current.isEmpty { messages.append(current) }
        return messages
    }

    private func frames(_ lines: [[UInt8]]) throws -> [[UInt8]] {
        let decoder = LineProtocolDecoder()
        var batch = ScanBatch()
        for (index, line) in lines.enumerated() {
            switch line.withUnsafeBufferPointer({ decoder.decodeLine($0) }) {
            case .success(.event(let event, _)): batch.append(event, record: Int32(index))
            case .success(.skipped): break
            case .failure(let rejection): throw ValidationError("line \(index + 1): \(rejection)")
            }
        }
        let encoder = BinaryFrameEncoder(gatewayID: gatewayID, secret: secretBytes!)
        var frames: [[UInt8]] = []
        var sequence = firstSequence
        for start in stride(from: 0, to: batch.count, by: recordsPerFrame) {
            frames.append(
                try encoder.encode(
                    batch,
                    indices: start..<min(start + recordsPerFrame, batch.count),
                    sequence: sequence,
                    compress: zstd
                )
            )
            sequence += 1
        }
        return frames
    }

    /// Sale scans of demo serials, each in a county of a province outside its owner's territory,
    /// one millisecond apart ending at `at`: every one raises an `out_of_territory` alert. The
    /// serials are spread over the first 3,000 demo serials (bound by any demo load).
    static func divertedLines(_ count: Int, at now: Int64) -> [[UInt8]] {
        let network = DemoNetwork.generate()
        let serials = DemoSerials(network: network)
        let byCode = Dictionary(uniqueKeysWithValues: network.distributors.map { ($0.code, $0) })
        let counties = network.distributors.map(\.homeRegion).filter { $0.level == .county }
        return (0..<count).map { index in
            let serial = (index &* 7_919) % 3_000
            let owner = byCode[serials.owner(serial)]!
            var pick = Int(SplitMix64.mix(UInt64(serial)) % UInt64(counties.count))
            while owner.territory.contains(where: { $0.province == counties[pick].province }) {
                pick = (pick + 1) % counties.count
            }
            let line =
                "sell \(counties[pick]) \(now - Int64(count - 1 - index)) "
                + "(01)\(serials.product(serial).digits)(21)\(DemoSerials.serial(serial))"
            return Array(line.utf8)
        }
    }

    /// Valid scans of demo serials: a mix of steps, each in the owner's home region.
    static func generatedLines(_ count: Int) -> [[UInt8]] {
        let network = DemoNetwork.generate()
        let serials = DemoSerials(network: network)
        let home = Dictionary(uniqueKeysWithValues: network.distributors.map { ($0.code, $0.homeRegion) })
        let steps: [ScanStep] = [.receive, .sell, .sell, .activate, .inspect]
        let start: Int64 = 1_795_435_200_000
        return (0..<count).map { index in
            let owner = serials.owner(index)
            let line =
                "\(steps[index % steps.count].rawValue) \(home[owner]!) \(start + Int64(index)) "
                + "(01)\(serials.product(index).digits)(21)\(DemoSerials.serial(index)) party=\(owner)"
            return Array(line.utf8)
        }
    }
}

/// `xxd`-style hex: offset, 16 bytes, printable characters.
enum HexDump {
    static func format(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { offset in
            let row = bytes[offset..<min(offset + 16, bytes.count)]
            let hex = row.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
            let text = String(row.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
            let position = String(offset, radix: 16)
            return String(repeating: "0", count: 8 - position.count) + position + ": "
                + hex.padding(toLength: 48, withPad: " ", startingAt: 0) + " " + text
        }.joined(separator: "\n")
    }
}

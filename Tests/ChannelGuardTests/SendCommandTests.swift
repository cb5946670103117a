import ChannelGuardCodes
import ChannelGuardCommerce
import ChannelGuardTerritory
import ChannelGuardTestSupport
import Foundation
import Synchronization
import Testing

@testable import ChannelGuardApp

#if canImport(Glibc)
import Glibc
#endif

/// `channelguard send` against small loopback receivers that decode what arrives.
@Suite struct SendCommandTests {
    static let secretHex = "000102030405060708090a0b0c0d0e0f"
    static let secret: [UInt8] = Array(0...15)

    /// Accepts one TCP connection, decodes frames, acknowledges each; counts what it decoded.
    final class FrameReceiver: Sendable {
        let listener: LoopbackListener
        let decoded = Mutex<(events: Int, frames: Int, rejected: Int)>((0, 0, 0))
        private let done = Mutex(false)

        init() throws {
            listener = try LoopbackListener()
        }

        func start() {
            Thread.detachNewThread { [self] in serve() }
        }

        var finished: Bool { done.withLock { $0 } }

        private func serve() {
            defer { done.withLock { $0 = true } }
            let client = accept(listener.descriptorForTests, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let decoder = BinaryFrameDecoder { $0 == 7 ? SendCommandTests.secret : nil }
            while let prefix = Self.read(client, 4) {
                let length = prefix.withUnsafeBufferPointer { BinaryFrame.frameLength(prefix: $0)! }
                guard length <= BinaryFrame.maximumFrameBytes, let rest = Self.read(client, length - 4) else { return }
                var batch = ScanBatch()
                let frame = prefix + rest
                let ack: FrameAcknowledgement
                switch frame.withUnsafeBufferPointer({ decoder.decode($0, into: &batch) }) {
                case .success(let header):
                    decoded.withLock {
                        $0.events += batch.count
                        $0.frames += 1
                        $0.rejected += batch.rejections.count
                    }
                    ack = .durable(through: header.sequence, rejectedRecords: UInt32(batch.rejections.count))
                case .failure(let rejection):
                    ack = .rejected(0, because: rejection.reason)
                }
                let bytes = ack.encoded
                _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }

        static func read(_ fd: Int32, _ count: Int) -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: count)
            var offset = 0
            while offset < count {
                let n = buffer[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return nil }
                offset += n
            }
            return buffer
        }
    }

    @Test(.timeLimit(.minutes(2))) func binaryFramesOverTCPAreAcknowledged() async throws {
        let receiver = try FrameReceiver()
        receiver.start()
        let send = try ChildProcess(
            try ChildProcess.channelguardExecutable(),
            [
                "send", "--to", "127.0.0.1:\(receiver.listener.port)", "--transport", "tcp", "--protocol", "binary",
                "--gateway-id", "7", "--secret", Self.secretHex, "--generate", "2500", "--records-per-frame", "100",
                "--zstd",
            ]
        )
        #expect(try await send.waitForExit(timeout: .seconds(60)) == 0, "\(send.output)")
        #expect(send.output.contains("sent 2500 scans in 25 frames"))
        #expect(send.output.contains("25 acknowledged, 0 rejected"))
        let counts = receiver.decoded.withLock { $0 }
        #expect(counts.events == 2_500 && counts.frames == 25 && counts.rejected == 0)
    }

    @Test(.timeLimit(.minutes(2))) func aWrongSecretIsRejectedByTheReceiver() async throws {
        let receiver = try FrameReceiver()
        receiver.start()
        let send = try ChildProcess(
            try ChildProcess.channelguardExecutable(),
            [
                "send", "--to", "127.0.0.1:\(receiver.listener.port)", "--protocol", "binary", "--gateway-id", "7",
                "--secret", "ffffffffffffffffffffffffffffffff", "--generate", "10",
            ]
        )
        #expect(try await send.waitForExit(timeout: .seconds(60)) == 0, "\(send.output)")
        #expect(send.output.contains("0 acknowledged, 1 rejected"))
        #expect(receiver.decoded.withLock { $0.events } == 0)
    }

    @Test(.timeLimit(.minutes(2))) func linesOverUDPArriveAsDatagrams() async throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        var bufferSize: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        let port = Int(UInt16(bigEndian: address.sin_port))

        let send = try ChildProcess(
            try ChildProcess.channelguardExecutable(),
            ["send", "--to", "127.0.0.1:\(port)", "--transport", "udp", "--generate", "200"]
        )
        #expect(try await send.waitForExit(timeout: .seconds(60)) == 0, "\(send.output)")

        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let decoder = LineProtocolDecoder()
        var batch = ScanBatch()
        var datagrams = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            datagrams += 1
            #expect(n <= 1_400)
            buffer.withUnsafeBufferPointer { decoder.decode(UnsafeBufferPointer(rebasing: $0[0..<n]), into: &batch) }
        }
        #expect(batch.count == 200 && batch.rejections.isEmpty)
        #expect(datagrams > 1)
    }
}

/// `send --demo-diversion N`: every scan is a valid protocol line, of a bound demo serial, in a
/// region outside its owner's territory.
@Suite struct DemoDiversionTests {
    @Test func everyScanIsOutsideItsOwnersTerritory() throws {
        let network = DemoNetwork.generate()
        let serials = DemoSerials(network: network)
        let owners = Dictionary(uniqueKeysWithValues: network.distributors.map { ($0.code, $0) })
        let now: Int64 = 1_800_000_000_000
        let lines = SendCommand.divertedLines(500, at: now)
        #expect(lines.count == 500)
        var batch = ScanBatch()
        let joined = lines.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        Array(joined.utf8).withUnsafeBufferPointer { LineProtocolDecoder().decode($0, into: &batch) }
        #expect(batch.count == 500 && batch.rejections.isEmpty)
        var times: [Int64] = []
        for line in lines.map({ String(decoding: $0, as: UTF8.self) }) {
            let fields = line.split(separator: " ")
            let region = try #require(RegionCode(fields[1]))
            times.append(try #require(Int64(fields[2])))
            let serial = String(try #require(fields[3].split(separator: ")").last))
            let index = try #require(Int(serial.dropFirst(), radix: 36))
            #expect(index < 3_000)
            let owner = try #require(owners[serials.owner(index)])
            #expect(!owner.territory.contains { $0.contains(region) }, "\(line) is inside \(owner.code)'s territory")
        }
        #expect(times == times.sorted() && times.last == now)
    }
}

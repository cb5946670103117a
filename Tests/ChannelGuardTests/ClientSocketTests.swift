import ChannelGuardLoad
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The load generator's UDP sender: datagrams handed over in runs for the kernel to segment
/// arrive as the same datagrams, one by one, in order, byte for byte.
@Suite struct ClientSocketTests {
    /// A plain UDP socket on loopback that reads one datagram per call.
    final class Receiver {
        let descriptor: Int32
        let port: Int

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            self.descriptor = descriptor
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            var size = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, size) == 0 && getsockname(descriptor, $0, &size) == 0
                }
            }
            guard bound else { throw SendError("bind: \(String(cString: strerror(errno)))") }
            port = Int(UInt16(bigEndian: address.sin_port))
            var buffer: Int32 = 8 << 20
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(descriptor) }

        /// How long ``next()`` waits from now on.
        func wait(milliseconds: Int) {
            var timeout = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next datagram, or `nil` after the timeout.
        func next() -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 70_000)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            return count < 0 ? nil : Array(buffer[..<count])
        }
    }

    @Test(arguments: [false, true])
    func datagramsArriveOneByOneInOrder(segmenting: Bool) throws {
        let receiver = try Receiver()
        let socket = try ClientSocket(host: "127.0.0.1", port: receiver.port, transport: .udp)
        // Runs of random length (some longer than the 64 a message may carry) of a few lengths; a
        // shorter datagram may close a run, a longer one may not. Each datagram is numbered.
        var generator = SystemRandomNumberGenerator()
        var datagrams: [[UInt8]] = []
        while datagrams.count < 1_500 {
            let length = [24, 25, 90, 1_400, 9_000].randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...80, using: &generator) {
                let number = UInt32(datagrams.count)
                datagrams.append(
                    withUnsafeBytes(of: number.bigEndian, Array.init)
                        + (4..<length).map { UInt8(truncatingIfNeeded: Int(number) &* 31 &+ $0) }
                )
            }
        }
        // Sent in slices, as the generator does, so that runs also break at a slice's end; each
        // slice read back before the next is sent, so that the receive buffer never overflows.
        var start = 0
        while start < datagrams.count {
            let slice = datagrams[start..<min(datagrams.count, start + Int.random(in: 1...100, using: &generator))]
            try socket.send(packed: slice.flatMap { $0 }, lengths: slice.map(\.count), segmenting: segmenting)
            for (number, expected) in zip(slice.indices, slice) {
                let received = try #require(receiver.next(), "datagram \(number) did not arrive")
                try #require(
                    received == expected,
                    "datagram \(number): \(received.count) bytes, expected \(expected.count)"
                )
            }
            start += slice.count
        }
        #expect(!socket.segmentationRefused, "this machine's kernel segments UDP on loopback")
        receiver.wait(milliseconds: 200)
        #expect(receiver.next() == nil, "a datagram more than was sent")
    }

    /// An empty datagram cannot be cut from a run: it goes on its own, between runs, and arrives.
    @Test func emptyDatagramsArriveInPlace() throws {
        let receiver = try Receiver()
        let socket = try ClientSocket(host: "127.0.0.1", port: receiver.port, transport: .udp)
        let datagrams: [[UInt8]] = [[1, 1], [2, 2], [], [3, 3], [4], [], [], [5, 5]]
        try socket.send(packed: datagrams.flatMap { $0 }, lengths: datagrams.map(\.count), segmenting: true)
        for (number, expected) in datagrams.enumerated() {
            #expect(receiver.next() == expected, "datagram \(number)")
        }
        #expect(!socket.segmentationRefused)
        receiver.wait(milliseconds: 100)
        #expect(receiver.next() == nil, "a datagram more than was sent")
    }
}

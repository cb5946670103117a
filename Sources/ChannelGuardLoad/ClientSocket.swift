import CChannelGuardSupport

#if canImport(Glibc)
import Glibc
#endif

/// A blocking UDP or TCP client socket for the reference sender and the load generator: simple on
/// purpose, so a gateway vendor can read it as an example. The servers use SwiftNIO. One thread may
/// send while another receives.
public final class ClientSocket: @unchecked Sendable {
    public enum Transport: String, Sendable {
        case udp, tcp
    }

    private let descriptor: Int32
    public let transport: Transport

    public init(host: String, port: Int, transport: Transport, receiveTimeoutSeconds: Int = 10) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SendError("'\(host)' is not an IPv4 address")
        }
        let type = transport == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw SendError("socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if transport == .tcp {
            // Each write is a whole frame, so send it at once: with Nagle's algorithm a small frame
            // (one scan) written behind a large one waits for the server's delayed ACK, up to 40 ms
            // on Linux. Gateways should do the same (docs/protocol.md).
            var noDelay: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SendError("cannot reach \(host):\(port) over \(transport.rawValue): \(reason)")
        }
        descriptor = fd
        self.transport = transport
    }

    deinit { close(descriptor) }

    /// Sends one datagram (UDP) or writes all bytes (TCP).
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw SendError("send: \(String(cString: strerror(errno)))")
            }
            if transport == .udp { return }
            offset += sent
        }
    }

    /// Set once the kernel has refused to segment datagrams on this socket (see
    /// ``send(packed:lengths:segmenting:)``); they then go one per message. Read and written by the
    /// sending thread only.
    public private(set) var segmentationRefused = false

    /// Sends datagrams (UDP) packed one after another in `bytes`, `lengths[i]` bytes each, as many
    /// per system call as the kernel takes (`sendmmsg`): at a few hundred thousand datagrams a
    /// second the system call, not the datagram, is what a sender pays for.
    ///
    /// With `segmenting`, runs of up to 64 consecutive datagrams of one length go down as one
    /// message that the kernel cuts apart (UDP generic segmentation offload, as QUIC stacks send):
    /// the receiver still reads every datagram on its own, in order, but the sender crosses the
    /// network stack once per run instead of once per datagram. If the kernel or the route refuses
    /// (an old kernel; a datagram longer than the path's MTU), the socket falls back to one
    /// datagram per message for good and ``segmentationRefused`` says so.
    public func send(packed bytes: [UInt8], lengths: [Int], segmenting: Bool = false) throws {
        precondition(transport == .udp, "send(packed:lengths:) is for UDP")
        try bytes.withUnsafeBytes { raw in
            var pointers: [UnsafeRawPointer?] = []
            pointers.reserveCapacity(lengths.count)
            var offset = 0
            for length in lengths {
                pointers.append(raw.baseAddress.map { $0 + offset })
                offset += length
            }
            precondition(offset <= raw.count, "the lengths add up to more than the bytes")
            var done = 0
            while done < lengths.count {
                let segments: UInt32 = segmenting && !segmentationRefused ? 64 : 1
                let sent = pointers[done...].withUnsafeBufferPointer { buffers in
                    lengths[done...].withUnsafeBufferPointer { sizes in
                        cg_send_datagrams(
                            descriptor,
                            buffers.baseAddress,
                            sizes.baseAddress,
                            UInt32(buffers.count),
                            segments
                        )
                    }
                }
                if sent < 0 {
                    if errno == EINTR { continue }
                    if segments > 1, [EINVAL, EIO, ENOPROTOOPT, EOPNOTSUPP].contains(errno) {
                        segmentationRefused = true
                        continue
                    }
                    throw SendError("sendmmsg: \(String(cString: strerror(errno)))")
                }
                done += Int(sent)
            }
        }
    }

    /// Reads exactly `count` bytes (TCP); `nil` when the peer closed or the timeout passed.
    public func receive(exactly count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let read = buffer[offset...].withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if read < 0 && errno == EINTR { continue }
            if read <= 0 { return nil }
            offset += read
        }
        return buffer
    }
}

public struct SendError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

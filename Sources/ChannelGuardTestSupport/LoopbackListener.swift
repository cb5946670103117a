#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 and a kernel-chosen port, held open until released: the way a test
/// makes a port busy.
public final class LoopbackListener: Sendable {
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0, named == 0 else {
            if fd >= 0 { close(fd) }
            throw ChildProcessError(message: "cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The listening socket, for tests that accept connections themselves.
    public var descriptorForTests: Int32 { descriptor }

    deinit { close(descriptor) }
}

#if canImport(Glibc)
import Glibc
#endif

/// Reads a file descriptor line by line as raw bytes: no text decoding, so GS (0x1D) and bytes
/// that are not UTF-8 reach the decoders as they were sent. A line's trailing CR is dropped.
struct LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Calls `body` with each line (without its LF or CRLF) until the input ends.
    mutating func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
                start = newline + 1
                continue
            }
            if finished {
                if start < buffer.count {
                    var end = buffer.count
                    if buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
                }
                return
            }
            buffer.removeSubrange(0..<start)
            start = 0
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw LineReaderError(errno: errno)
            }
            if count == 0 { finished = true } else { buffer.append(contentsOf: chunk[0..<count]) }
        }
    }
}

struct LineReaderError: Error, CustomStringConvertible {
    let errno: Int32
    var description: String { "read failed: \(String(cString: strerror(errno)))" }
}

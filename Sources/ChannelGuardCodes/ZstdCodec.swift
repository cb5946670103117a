import CZstd

/// One-shot zstd compression of byte buffers (frame payloads, scan batch payloads, spool segments).
public enum ZstdCodec {
    /// Compresses `input` at `level` (1–19; 3 is zstd's default balance of speed and ratio).
    public static func compress(_ input: [UInt8], level: Int32 = 3) throws(CompressionError) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress(out.baseAddress, bound, inp.baseAddress, inp.count, level)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw CompressionError("zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one zstd frame, refusing frames that declare more than `maximumSize` bytes or
    /// do not declare their size.
    public static func decompress(_ input: [UInt8], maximumSize: Int = 64 << 20) throws(CompressionError) -> [UInt8] {
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest UInt64 values.
        guard declared < UInt64.max - 1 else {
            throw CompressionError("not a zstd frame with a declared content size")
        }
        guard declared <= UInt64(maximumSize) else {
            throw CompressionError("zstd frame declares \(declared) bytes, more than the limit \(maximumSize)")
        }
        var output = [UInt8](repeating: 0, count: Int(declared))
        let capacity = output.count
        let read = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_decompress(out.baseAddress, capacity, inp.baseAddress, inp.count)
            }
        }
        if ZSTD_isError(read) != 0 {
            throw CompressionError("zstd decompression failed: \(String(cString: ZSTD_getErrorName(read)))")
        }
        guard read == capacity else { throw CompressionError("zstd frame shorter than it declares") }
        return output
    }
}

/// A payload that could not be compressed or decompressed.
public struct CompressionError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

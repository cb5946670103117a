import CChannelGuardSupport

#if canImport(Glibc)
import Glibc
#endif

/// A shard's append-only spool: batches kept on local disk, in order, while the database cannot
/// take them. Each record is `[length u32][CRC-32C u32][body]` (little-endian), written with
/// fsync; the file is emptied once every record has been committed.
///
/// Not thread-safe: ``BatchWriter`` guards it with its lock.
public final class BatchSpool {
    let path: String
    private let descriptor: Int32
    /// Where the next record to drain starts.
    public private(set) var readOffset: Int64 = 0
    /// Where the next record will be written.
    public private(set) var writeOffset: Int64

    public init(path: String) throws(IngestError) {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw IngestError(.spoolFailed, "cannot open the spool \(path): \(String(cString: strerror(errno)))")
        }
        writeOffset = Int64(lseek(descriptor, 0, SEEK_END))
    }

    deinit { close(descriptor) }

    /// Bytes waiting to be drained.
    public var pendingBytes: Int64 { writeOffset - readOffset }

    public var isEmpty: Bool { pendingBytes == 0 }

    /// Appends one record and makes it durable.
    public func append(_ body: [UInt8]) throws(IngestError) {
        var record: [UInt8] = []
        record.reserveCapacity(body.count + 8)
        record.appendLittleEndian(UInt32(body.count))
        record.appendLittleEndian(body.withUnsafeBytes { cg_crc32c(0, $0.baseAddress, $0.count) })
        record.append(contentsOf: body)
        let written = record.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(writeOffset)) }
        guard written == record.count, fsync(descriptor) == 0 else {
            throw IngestError(.spoolFailed, "cannot write the spool \(path): \(String(cString: strerror(errno)))")
        }
        writeOffset += Int64(record.count)
    }

    /// The next record after `readOffset`, and where it ends; `nil` at the end. A record that is
    /// cut short or fails its checksum (a crash while appending) ends the spool there.
    public func next() -> (body: [UInt8], end: Int64)? {
        var header = [UInt8](repeating: 0, count: 8)
        guard readOffset + 8 <= writeOffset,
            header.withUnsafeMutableBytes({ pread(descriptor, $0.baseAddress, 8, off_t(readOffset)) }) == 8
        else { return nil }
        let length = Int64(header.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        let crc = header.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) }
        guard readOffset + 8 + length <= writeOffset else { return nil }
        var body = [UInt8](repeating: 0, count: Int(length))
        let read = body.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, Int(length), off_t(readOffset + 8)) }
        guard read == Int(length), body.withUnsafeBytes({ cg_crc32c(0, $0.baseAddress, $0.count) }) == crc else {
            return nil
        }
        return (body, readOffset + 8 + length)
    }

    /// Every record up to `end` is committed; an emptied spool is truncated.
    public func committed(through end: Int64) {
        readOffset = end
        if readOffset >= writeOffset || next() == nil {
            // Everything is committed (or only a torn tail is left): start over.
            ftruncate(descriptor, 0)
            fsync(descriptor)
            readOffset = 0
            writeOffset = 0
        }
    }
}

import CChannelGuardSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The snapshot file of a ``SerialIndex``: each shard's arenas as they are in memory, so loading is
/// one `read` per arena instead of one insertion per key.
///
/// Layout (little-endian):
/// - header, 64 bytes: magic `CGINDEX1`, format version, key encoding version, shard count, the
///   source watermark (the bindings' change sequence the index reflects), creation time (ms since
///   1970), key count, the source database's identity (128 bits);
/// - per shard: key count, range count, the bytes used in each of its five arenas, its log position
///   (the last stored batch whose scans its state reflects, all ones when unknown), then the tree's root,
///   free lists and generation, and the arenas' bytes;
/// - trailer, 24 bytes: CRC-32C of everything before it, the file length, magic `CGINDEND`.
///
/// Written atomically: to a temporary file beside the target, `fsync`, `rename`, `fsync` of the
/// directory. A file that is short, long, of another version, fails its checksum, or describes an
/// impossible tree is refused with a specific ``IndexError``; it is never partly trusted.
public enum IndexSnapshot {
    static let magic: UInt64 = 0x3158_4544_4E49_4743  // "CGINDEX1"
    /// 2: the header carries the source database's identity. 3: each shard carries its log
    /// position. Format 2 is still read (without positions).
    public static let formatVersion: UInt32 = 3
    /// Version of the key bytes and value packing (``IndexKey``, ``SerialBinding``, ``LeafCodec``).
    public static let keyEncodingVersion: UInt32 = 1
    /// A shard's log position when none is known (written for an empty `logPositions`).
    public static let unknownPosition = UInt64.max
    static let headerSize = 64
    static let trailerSize = 24
    static let trailerMagic: UInt64 = 0x444E_4558_4449_4743  // "CGIDXEND"

    /// What a snapshot's header says.
    public struct Header: Sendable, Equatable {
        public var shardCount: Int
        /// The source watermark the index reflects (for example the bindings' change sequence).
        public var watermark: UInt64
        /// Creation time, milliseconds since 1970.
        public var createdAt: Int64
        public var keyCount: Int
        /// The database the index was built from (`database_identity`), 0 when none was given: a
        /// watermark means nothing in another database, where the same sequence can describe
        /// different bindings.
        public var database: UInt128
        /// Per shard, the id of the last batch of the event log (this node's, that shard's) whose
        /// scans the shard's state reflects: batches after it are replayed at start. Empty for a
        /// format 2 file; ``IndexSnapshot/unknownPosition`` for a shard whose position is unknown.
        public var logPositions: [UInt64] = []
        /// The format the file was written in.
        public var format: UInt32 = IndexSnapshot.formatVersion
    }

    // MARK: Writing

    /// Writes `index` to `path` atomically, built from `database` at `watermark`. Returns the bytes
    /// written.
    @discardableResult
    public static func write(
        _ index: SerialIndex,
        to path: String,
        watermark: UInt64,
        createdAt: Int64,
        database: UInt128 = 0,
        logPositions: [UInt64] = [],
        pacing: Pacing? = nil
    ) throws(IndexError) -> Int {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ioError("create", temporary) }
        var writer = Writer(descriptor: descriptor, path: temporary, pacing: pacing)
        do throws(IndexError) {
            var header = [UInt8](repeating: 0, count: headerSize)
            put(&header, 0, magic)
            put(&header, 8, UInt64(formatVersion) | UInt64(keyEncodingVersion) << 32)
            put(&header, 16, UInt64(index.shards.count))
            put(&header, 24, watermark)
            put(&header, 32, UInt64(bitPattern: createdAt))
            put(&header, 40, UInt64(index.count))
            put(&header, 48, UInt64(truncatingIfNeeded: database))
            put(&header, 56, UInt64(truncatingIfNeeded: database >> 64))
            try writer.write(header)
            for (number, shard) in index.shards.enumerated() {
                let tree = shard.tree
                var shardHeader = [UInt8](repeating: 0, count: shardHeaderSize(format: formatVersion))
                put(&shardHeader, 0, UInt64(tree.count))
                put(&shardHeader, 8, UInt64(shard.rangeCount))
                for (position, arena) in tree.allArenas.enumerated() {
                    put(&shardHeader, 16 + position * 8, UInt64(arena.used))
                }
                put(&shardHeader, 56, number < logPositions.count ? logPositions[number] : unknownPosition)
                try writer.write(shardHeader)
                try writer.write(UnsafeRawBufferPointer(start: tree.meta, count: RadixTree.metaCount * 4))
                for arena in tree.allArenas {
                    try writer.write(UnsafeRawBufferPointer(start: arena.base, count: arena.used))
                }
            }
            var trailer = [UInt8](repeating: 0, count: trailerSize)
            put(&trailer, 0, UInt64(writer.crc))
            put(&trailer, 8, UInt64(writer.written + trailerSize))
            put(&trailer, 16, trailerMagic)
            try writer.write(trailer)
            guard fsync(descriptor) == 0 else { throw ioError("fsync", temporary) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ioError("rename to", path)
        }
        syncDirectory(of: path)
        return writer.written
    }

    /// Key and range counts, five arena sizes, and (format 3) the log position.
    static func shardHeaderSize(format: UInt32) -> Int { format >= 3 ? 16 + 5 * 8 + 8 : 16 + 5 * 8 }

    /// How a snapshot written beside a busy database is spread out: every `chunkBytes` written
    /// are made durable (`fdatasync`) and followed by a pause, so the file never reaches the disk
    /// as one burst ahead of the database's WAL flushes.
    public struct Pacing: Sendable, Hashable {
        public var chunkBytes: Int
        public var pauseMicroseconds: UInt32

        public init(chunkBytes: Int = 2 << 20, pauseMicroseconds: UInt32 = 20_000) {
            self.chunkBytes = max(4096, chunkBytes)
            self.pauseMicroseconds = pauseMicroseconds
        }
    }

    struct Writer {
        let descriptor: Int32
        let path: String
        var pacing: Pacing? = nil
        var crc: UInt32 = 0
        var written = 0
        /// Bytes written since the last paced sync.
        var unsynced = 0

        mutating func write(_ bytes: UnsafeRawBufferPointer) throws(IndexError) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            crc = cg_crc32c(crc, base, bytes.count)
            var offset = 0
            while offset < bytes.count {
                let step = min(bytes.count - offset, pacing.map { $0.chunkBytes - unsynced } ?? 1 << 30)
                let count = Glibc.write(descriptor, base + offset, step)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw IndexSnapshot.ioError("write", path) }
                offset += count
                unsynced += count
                if let pacing, unsynced >= pacing.chunkBytes {
                    guard fdatasync(descriptor) == 0 else { throw IndexSnapshot.ioError("fdatasync", path) }
                    usleep(pacing.pauseMicroseconds)
                    unsynced = 0
                }
            }
            written += bytes.count
        }

        mutating func write(_ array: [UInt8]) throws(IndexError) {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: array.count, alignment: 8)
            defer { copy.deallocate() }
            copy.copyBytes(from: array)
            try write(UnsafeRawBufferPointer(copy))
        }
    }

    static func syncDirectory(of path: String) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let descriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    static func put(_ buffer: inout [UInt8], _ offset: Int, _ value: UInt64) {
        for index in 0..<8 { buffer[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(index * 8)) }
    }

    static func get(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
    }

    static func ioError(_ action: String, _ path: String) -> IndexError {
        IndexError(.snapshotIO, "\(action) \(path): \(String(cString: strerror(errno)))")
    }
}

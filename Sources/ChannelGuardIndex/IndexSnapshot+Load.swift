import CChannelGuardSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension IndexSnapshot {
    /// Reads only the header of the snapshot at `path` (to decide whether it is current).
    public static func header(at path: String) throws(IndexError) -> Header {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ioError("open", path) }
        defer { close(descriptor) }
        var reader = Reader(descriptor: descriptor, path: path)
        return try readHeader(&reader)
    }

    /// Loads the snapshot at `path`. Every check runs before the index is returned: magic, versions,
    /// sizes, references, checksum, length.
    public static func load(from path: String) throws(IndexError) -> (SerialIndex, Header) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ioError("open", path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ioError("stat", path) }
        let fileSize = Int(status.st_size)
        var reader = Reader(descriptor: descriptor, path: path)
        var header = try readHeader(&reader)
        let index = try SerialIndex(shardCount: header.shardCount)
        var pendingChecks: [(IndexShard, Int, Int)] = []
        for (number, shard) in index.shards.enumerated() {
            let shardHeader = try reader.readArray(shardHeaderSize(format: header.format))
            let fields = shardHeader.withUnsafeBytes { bytes in (0..<7).map { size(get(bytes, $0 * 8)) } }
            if header.format >= 3 { header.logPositions.append(shardHeader.withUnsafeBytes { get($0, 56) }) }
            guard let count = fields[0], let ranges = fields[1] else {
                throw IndexError(.snapshotStructure, "shard \(number) claims an impossible key or range count")
            }
            var used: [Int] = []
            for field in fields[2...] {
                guard let bytes = field else {
                    throw IndexError(.snapshotStructure, "shard \(number) claims an impossible arena size")
                }
                used.append(bytes)
            }
            let arenas = shard.tree.allArenas
            for position in 0..<5 where used[position] > arenas[position].capacity || used[position] < 0 {
                throw IndexError(.snapshotStructure, "shard \(number) arena \(position) claims \(used[position]) bytes")
            }
            // The declared sizes must fit the file before any large read.
            let needed = RadixTree.metaCount * 4 + used.reduce(0, +)
            guard reader.offset + needed + trailerSize <= fileSize else {
                throw IndexError(
                    .snapshotTruncated,
                    "shard \(number) needs \(needed) bytes; the file has \(fileSize - reader.offset)"
                )
            }
            try reader.read(into: UnsafeMutableRawBufferPointer(start: shard.tree.meta, count: RadixTree.metaCount * 4))
            for position in 0..<5 {
                try reader.read(
                    into: UnsafeMutableRawBufferPointer(start: arenas[position].base, count: used[position])
                )
                shard.tree.setUsed(position, used[position])
            }
            shard.tree.count = count
            shard.rangeCount = ranges
            try checkStructure(shard.tree, shard: number)
            pendingChecks.append((shard, count, number))
        }
        let crc = reader.crc
        let trailer = try reader.readArray(trailerSize)
        let (storedCRC, length, end) = trailer.withUnsafeBytes { (get($0, 0), get($0, 8), get($0, 16)) }
        guard end == trailerMagic, length == UInt64(reader.offset), reader.offset == fileSize else {
            throw IndexError(
                .snapshotTruncated,
                "trailer does not close the file at \(reader.offset) of \(fileSize) bytes"
            )
        }
        guard storedCRC == UInt64(crc) else {
            throw IndexError(
                .snapshotChecksum,
                "CRC-32C \(String(crc, radix: 16)) does not match the stored \(String(storedCRC, radix: 16))"
            )
        }
        guard index.count == header.keyCount else {
            throw IndexError(.snapshotStructure, "shards hold \(index.count) keys; the header says \(header.keyCount)")
        }
        // Only a file that passed its checksum gets the full walk: every reference is checked
        // before the index is handed out.
        for (shard, count, number) in pendingChecks {
            do throws(IndexError) {
                try shard.tree.validate(expectedCount: count)
            } catch {
                throw IndexError(.snapshotStructure, "shard \(number): \(error.message)")
            }
        }
        return (index, header)
    }

    static func readHeader(_ reader: inout Reader) throws(IndexError) -> Header {
        let bytes: [UInt8]
        do {
            bytes = try reader.readArray(headerSize)
        } catch  where error.code == .snapshotTruncated {
            throw IndexError(.snapshotNotASnapshot, "\(reader.path) is shorter than a snapshot header")
        }
        let parsed: Result<Header, IndexError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(IndexError) -> Header in
                guard get(buffer, 0) == magic else {
                    throw IndexError(.snapshotNotASnapshot, "\(reader.path) does not start with the snapshot magic")
                }
                let versions = get(buffer, 8)
                let format = UInt32(truncatingIfNeeded: versions)
                guard (2...formatVersion).contains(format), UInt32(versions >> 32) == keyEncodingVersion else {
                    throw IndexError(
                        .snapshotVersion,
                        "format \(format) keys \(versions >> 32); this build reads formats 2–\(formatVersion) keys \(keyEncodingVersion)"
                    )
                }
                let shards = get(buffer, 16)
                guard (1...4096).contains(shards) else { throw IndexError(.snapshotStructure, "\(shards) shards") }
                guard let keys = size(get(buffer, 40)) else {
                    throw IndexError(.snapshotStructure, "a key count of \(get(buffer, 40))")
                }
                return Header(
                    shardCount: Int(shards),
                    watermark: get(buffer, 24),
                    createdAt: Int64(bitPattern: get(buffer, 32)),
                    keyCount: keys,
                    database: UInt128(get(buffer, 48)) | UInt128(get(buffer, 56)) << 64,
                    format: format
                )
            }
        }
        return try parsed.get()
    }

    /// A snapshot's bytes with the trailer's checksum recomputed over the rest: for tests that
    /// check what the structure walk catches once a file passes its checksum, and for fuzzing.
    public static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        let body = copy.count - trailerSize
        let crc = copy.withUnsafeBytes { cg_crc32c(0, $0.baseAddress!, body) }
        for index in 0..<8 { copy[body + index] = UInt8(truncatingIfNeeded: UInt64(crc) >> UInt64(index * 8)) }
        return copy
    }

    /// A count or size read from a file, or `nil` when no real index could have it (at most 2^48).
    static func size(_ value: UInt64) -> Int? { value <= 1 << 48 ? Int(value) : nil }

    /// The root and every free-list head must point inside the loaded arenas.
    static func checkStructure(_ tree: RadixTree, shard: Int) throws(IndexError) {
        guard tree.isInBounds(tree.root) else {
            throw IndexError(
                .snapshotStructure,
                "shard \(shard): root \(String(tree.root.raw, radix: 16)) is outside its arena"
            )
        }
        for kind in NodeKind.allCases {
            let head = Int(tree.meta[RadixTree.metaFreeNodes + Int(kind.rawValue)])
            guard head == 0 || tree.isInBounds(NodeRef(kind: kind, slot: head)) else {
                throw IndexError(.snapshotStructure, "shard \(shard): \(kind) free list starts outside its arena")
            }
        }
        for size in 0...RadixTree.maxLeafSize {
            let head = Int(tree.meta[RadixTree.metaFreeLeaves + size])
            guard head == 0 || (head >= 8 && head + size <= tree.leaves.used) else {
                throw IndexError(
                    .snapshotStructure,
                    "shard \(shard): free leaves of \(size) bytes start outside the arena"
                )
            }
        }
    }

    struct Reader {
        let descriptor: Int32
        let path: String
        var crc: UInt32 = 0
        var offset = 0

        mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(IndexError) {
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            var done = 0
            while done < buffer.count {
                let count = Glibc.read(descriptor, base + done, min(buffer.count - done, 1 << 30))
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw IndexSnapshot.ioError("read", path) }
                guard count > 0 else {
                    throw IndexError(.snapshotTruncated, "\(path) ends at \(offset + done) bytes, inside its contents")
                }
                done += count
            }
            crc = cg_crc32c(crc, base, buffer.count)
            offset += buffer.count
        }

        mutating func readArray(_ count: Int) throws(IndexError) -> [UInt8] {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
            defer { buffer.deallocate() }
            try read(into: buffer)
            return Array(buffer)
        }
    }
}

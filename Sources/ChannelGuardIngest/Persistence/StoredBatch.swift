import ChannelGuardCodes

/// Everything one flush transaction writes, encoded and compressed: what the writer commits, and
/// what the spool keeps on disk while the database is away.
public struct StoredBatch: Sendable, Hashable {
    public var shard: Int
    public var eventCount: Int
    public var firstScan: Int64
    public var lastScan: Int64
    public var rawBytes: Int
    /// The zstd-compressed log-format payload.
    public var payload: [UInt8]
    /// Highest frame sequence per gateway.
    public var offsets: [UInt64]
    /// The batch's rollup cells (``RollupDeltas``), zstd-compressed; empty when none.
    public var rollup: [UInt8]
    /// Alert rows as `FlushTransaction` stages them (text columns).
    public var alerts: [[String?]]

    /// Encodes and compresses a job (on the writer's thread).
    init(_ job: FlushJob, compressionLevel: Int32) throws(CompressionError) {
        shard = job.shard
        eventCount = job.eventCount
        firstScan = job.firstScan
        lastScan = job.lastScan
        let raw = job.eventCount > 0 ? ScanLogFormat.payload(job.parts) : []
        rawBytes = raw.count
        payload = job.eventCount > 0 ? try ZstdCodec.compress(raw, level: compressionLevel) : []
        offsets = job.offsets.filter { $0.key != 0 && $0.value > 0 }.sorted { $0.key < $1.key }.flatMap {
            [UInt64($0.key), $0.value]
        }
        rollup =
            job.rollups.isEmpty ? [] : try ZstdCodec.compress(RollupDeltas.encode(job.rollups), level: compressionLevel)
        alerts = job.alerts.map(FlushTransaction.row)
    }

    public init(
        shard: Int,
        eventCount: Int,
        firstScan: Int64,
        lastScan: Int64,
        rawBytes: Int,
        payload: [UInt8],
        offsets: [UInt64],
        rollup: [UInt8],
        alerts: [[String?]]
    ) {
        self.shard = shard
        self.eventCount = eventCount
        self.firstScan = firstScan
        self.lastScan = lastScan
        self.rawBytes = rawBytes
        self.payload = payload
        self.offsets = offsets
        self.rollup = rollup
        self.alerts = alerts
    }

    // MARK: Spool encoding

    /// The batch as a spool record body (little-endian; strings length-prefixed, -1 for null).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + rollup.count + 64 + alerts.count * 200)
        for value in [Int64(shard), Int64(eventCount), firstScan, lastScan, Int64(rawBytes)] {
            out.appendLittleEndian(value)
        }
        out.appendLittleEndian(UInt32(payload.count))
        out.append(contentsOf: payload)
        out.appendLittleEndian(UInt32(offsets.count))
        for value in offsets { out.appendLittleEndian(value) }
        out.appendLittleEndian(UInt32(rollup.count))
        out.append(contentsOf: rollup)
        do {
            out.appendLittleEndian(UInt32(alerts.count))
            for row in alerts {
                out.appendLittleEndian(UInt32(row.count))
                for field in row {
                    guard let field else {
                        out.appendLittleEndian(Int32(-1))
                        continue
                    }
                    let bytes = Array(field.utf8)
                    out.appendLittleEndian(Int32(bytes.count))
                    out.append(contentsOf: bytes)
                }
            }
        }
        return out
    }

    /// Reads a spool record body back; `nil` when it is not one.
    public init?(decoding bytes: [UInt8]) {
        var reader = SpoolReader(bytes: bytes)
        guard let shard = reader.int64(), let events = reader.int64(), let first = reader.int64(),
            let last = reader.int64(),
            let raw = reader.int64(), let payload = reader.block(), let offsetCount = reader.uint32()
        else { return nil }
        var offsets: [UInt64] = []
        for _ in 0..<offsetCount {
            guard let value = reader.int64() else { return nil }
            offsets.append(UInt64(bitPattern: value))
        }
        guard let rollup = reader.block(), let rows = reader.uint32() else { return nil }
        var alerts: [[String?]] = []
        for _ in 0..<rows {
            guard let fields = reader.uint32(), fields <= 64 else { return nil }
            var row: [String?] = []
            for _ in 0..<fields {
                guard let field = reader.text() else { return nil }
                row.append(field)
            }
            alerts.append(row)
        }
        guard reader.offset == bytes.count else { return nil }
        self.init(
            shard: Int(shard),
            eventCount: Int(events),
            firstScan: first,
            lastScan: last,
            rawBytes: Int(raw),
            payload: payload,
            offsets: offsets,
            rollup: rollup,
            alerts: alerts
        )
    }
}

/// Bounds-checked little-endian reads of a spool record.
private struct SpoolReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func fixed<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard offset + MemoryLayout<T>.size <= bytes.count else { return nil }
        let value = bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        offset += MemoryLayout<T>.size
        return value
    }

    mutating func int64() -> Int64? { fixed(Int64.self) }
    mutating func uint32() -> UInt32? { fixed(UInt32.self) }

    mutating func block() -> [UInt8]? {
        guard let count = uint32(), offset + Int(count) <= bytes.count else { return nil }
        defer { offset += Int(count) }
        return Array(bytes[offset..<offset + Int(count)])
    }

    /// A string, `.some(nil)` for null, `nil` when malformed.
    mutating func text() -> String?? {
        guard let count = fixed(Int32.self) else { return nil }
        if count == -1 { return .some(nil) }
        guard count >= 0, offset + Int(count) <= bytes.count else { return nil }
        defer { offset += Int(count) }
        return .some(String(decoding: bytes[offset..<offset + Int(count)], as: UTF8.self))
    }
}

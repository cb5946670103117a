import ChannelGuardCodes
import ChannelGuardStore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reading the event log (`scan_batches`) back.
public enum ScanLog {
    /// One node's pipeline shard, whose batches are read alone (``replay(_:from:to:ids:stream:_:)``).
    public struct Stream: Sendable, Hashable {
        public var node: String
        public var shard: Int

        public init(node: String, shard: Int) {
            self.node = node
            self.shard = shard
        }
    }

    /// Calls `body` with every stored batch whose scans overlap [from, to) (Unix milliseconds) and
    /// whose id is in `ids` (and, given a `stream`, that one node's shard stored), in the order they
    /// were stored, decompressed and decoded. Returns a description of each batch that could not be
    /// read (the others are still delivered).
    @discardableResult
    public static func replay(
        _ connection: LibPQConnection,
        from: Int64 = .min,
        to: Int64 = .max,
        ids: ClosedRange<Int64> = 0...Int64.max,
        stream: Stream? = nil,
        _ body: (_ batch: ScanBatch, _ id: Int64, _ gateways: [UInt32]) throws -> Void
    ) throws -> [String] {
        var failures: [String] = []
        var after = ids.lowerBound == .min ? .min : ids.lowerBound - 1
        let lower = from == .min ? "-infinity" : "\(from)"
        let upper = to == .max ? "infinity" : "\(to)"
        while true {
            let rows = try connection.execute(
                """
                SELECT id, codec, encode(payload, 'hex') FROM scan_batches
                WHERE id > $1::bigint AND id <= $4::bigint
                  AND ($5::text IS NULL OR (node = $5 AND shard = $6::smallint))
                  AND last_scan_at >= (CASE WHEN $2 = '-infinity' THEN '-infinity'::timestamptz ELSE to_timestamp($2::bigint / 1000.0) END)
                  AND first_scan_at < (CASE WHEN $3 = 'infinity' THEN 'infinity'::timestamptz ELSE to_timestamp($3::bigint / 1000.0) END)
                ORDER BY id LIMIT 100
                """,
                ["\(after)", lower, upper, "\(ids.upperBound)", stream?.node, stream.map { "\($0.shard)" }]
            )
            if rows.isEmpty { return failures }
            for row in rows {
                let id = Int64(row[0] ?? "") ?? 0
                after = max(after, id)
                if let failure = try deliver(codec: row[1], hex: row[2] ?? "", id: id, body) {
                    failures.append("batch \(id): \(failure)")
                }
            }
        }
    }

    /// Calls `body` with every batch in the archive files of `directory` (days exported by
    /// ``PartitionKeeper``, read in name order, which is day order) whose scans overlap [from, to)
    /// and whose id is in `ids`, decompressed and decoded. Returns a description of each batch or
    /// line that could not be read (the others are still delivered).
    @discardableResult
    public static func replay(
        archive directory: String,
        from: Int64 = .min,
        to: Int64 = .max,
        ids: ClosedRange<Int64> = 0...Int64.max,
        _ body: (_ batch: ScanBatch, _ id: Int64, _ gateways: [UInt32]) throws -> Void
    ) throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var failures: [String] = []
        for name in names.sorted() where name.hasPrefix("scan_batches_") && name.hasSuffix(".cglog") {
            let path = "\(directory)/\(name)"
            guard let file = fopen(path, "r") else {
                failures.append("\(path): cannot open: \(String(cString: strerror(errno)))")
                continue
            }
            defer { fclose(file) }
            var buffer: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(buffer) }
            var number = 0
            while getline(&buffer, &capacity, file) > 0, let line = buffer {
                number += 1
                let fields = String(cString: line).dropLast().split(separator: "\t", omittingEmptySubsequences: false)
                guard fields.count == 5, let id = Int64(fields[0]), let first = Int64(fields[2]),
                    let last = Int64(fields[3]), fields[4].hasPrefix("\\\\x")
                else {
                    failures.append("\(name) line \(number): not an archived batch")
                    continue
                }
                guard ids.contains(id), last >= from, first < to else { continue }
                if let failure = try deliver(
                    codec: String(fields[1]),
                    hex: String(fields[4].dropFirst(3)),
                    id: id,
                    body
                ) {
                    failures.append("\(name) batch \(id): \(failure)")
                }
            }
        }
        return failures
    }

    /// Decompresses and decodes one stored payload (hex) and hands it to `body`; returns why it
    /// could not be read, or `nil`. Errors `body` throws pass through.
    private static func deliver(
        codec: String?,
        hex: String,
        id: Int64,
        _ body: (_ batch: ScanBatch, _ id: Int64, _ gateways: [UInt32]) throws -> Void
    ) throws -> String? {
        do {
            guard let stored = Hex.decode(hex) else { throw CompressionError("payload is not readable") }
            let raw = codec == "zstd" ? try ZstdCodec.decompress(stored, maximumSize: 1 << 30) : stored
            let (batch, gateways) = try ScanBatch.fromLogPayload(raw)
            try body(batch, id, gateways)
            return nil
        } catch let error as CompressionError {
            return "\(error)"
        } catch let error as ScanLogFormat.Malformed {
            return "\(error)"
        }
    }
}

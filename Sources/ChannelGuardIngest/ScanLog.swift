import ChannelGuardCodes
import ChannelGuardStore

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
                do {
                    guard let stored = Hex.decode(row[2] ?? "") else {
                        throw CompressionError("payload is not readable")
                    }
                    let raw = row[1] == "zstd" ? try ZstdCodec.decompress(stored, maximumSize: 1 << 30) : stored
                    let (batch, gateways) = try ScanBatch.fromLogPayload(raw)
                    try body(batch, id, gateways)
                } catch let error as CompressionError {
                    failures.append("batch \(id): \(error)")
                } catch let error as ScanLogFormat.Malformed {
                    failures.append("batch \(id): \(error)")
                }
            }
        }
    }
}

import ChannelGuardCodes
import ChannelGuardStore

/// The one transaction that makes a flush durable: the compressed batch with its rollup deltas, the
/// gateway offsets it advances and its alerts — all or nothing. It is one statement,
/// `store_scan_batch` (migrations 8 and 11), sent in one round trip that commits as it returns:
/// alerts reach the stream sooner, and the server process is woken once per flush, not eight
/// times. It does not notify: ``AlertAnnouncer`` announces the batch on `channelguard_alerts` after
/// the commit (a notifying transaction holds a cluster-wide lock until its commit is on disk). The
/// alerts are folded into incidents afterwards (`fold_alerts_into_incidents`); ``RollupFolder``
/// adds the deltas to `scan_rollups_hourly` later.
enum FlushTransaction {
    static let statement = """
        SELECT store_scan_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                                $19, $20, $21, $22, $23, $24, $25, $26, $27)
        """

    /// Stores `job` and returns the batch id (0 for a job without events, which stores nothing).
    static func store(
        _ job: StoredBatch,
        node: String,
        flushedAt: Int64,
        connection: LibPQConnection
    ) throws -> Int64 {
        guard job.eventCount > 0 else { return 0 }
        let pairs = stride(from: 0, to: job.offsets.count, by: 2)
        var parameters: [LibPQConnection.Parameter] = [
            .text(ScanTime.format(milliseconds: flushedAt)), .text(node), .text("\(job.shard)"),
            .text("\(ScanLogFormat.version)"), .text("\(job.eventCount)"),
            .text(ScanTime.format(milliseconds: job.firstScan)), .text(ScanTime.format(milliseconds: job.lastScan)),
            .text("\(min(job.rawBytes, Int(Int32.max)))"), .bytes(job.payload),
            job.rollup.isEmpty ? .text(nil) : .bytes(job.rollup),
            .text(PostgresArrayLiteral.text(pairs.map { "\(job.offsets[$0])" })),
            .text(PostgresArrayLiteral.text(pairs.map { "\(job.offsets[$0 + 1])" })),
        ]
        // Offsets and alerts travel as array parameters: a temporary table per flush cost the server
        // a catalog change and a file for every transaction.
        for column in 0..<15 {
            parameters.append(.text(PostgresArrayLiteral.text(job.alerts.map { column < $0.count ? $0[column] : nil })))
        }
        let rows = try connection.execute(statement, parameters: parameters)
        guard let id = rows.first?.first.flatMap({ $0.flatMap { Int64($0) } }) else {
            throw StoreError(.queryFailed, "store_scan_batch returned no batch id")
        }
        return id
    }

    static func row(_ alert: ScanAlert) -> [String?] {
        let item = alert.kind == .item
        return [
            alert.rule.rawValue, alert.severity.rawValue, "\(alert.scannedAt)", alert.step.rawValue,
            item ? gtin14(alert.key) : nil, item ? alert.serial : nil, item ? nil : sscc18(alert.key),
            alert.distributor.map { "\($0)" }, alert.scanParty.map { "\($0)" }, "\(alert.scanRegion)",
            alert.distanceKilometres.map { "\($0)" }, alert.price >= 0 ? "\(alert.price)" : nil,
            alert.gateway == 0 ? nil : "\(alert.gateway)", alert.device.isEmpty ? nil : alert.device,
            alert.evidenceJSON,
        ]
    }

    static func gtin14(_ value: UInt64) -> String { ScanBatch.padded(value, 14) }
    static func sscc18(_ value: UInt64) -> String { ScanBatch.padded(value, 18) }
}

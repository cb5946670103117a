import ChannelGuardCodes
import ChannelGuardStore

/// Adds the rollup deltas stored with each batch to `scan_rollups_hourly`, many batches merged into
/// one upsert. The batches it applies are marked `rolled_up` in the same transaction, so each is
/// counted exactly once, even with several folders (rows are claimed with `SKIP LOCKED`).
///
/// The deltas are read a page of batches at a time and merged as they come, so that a fold holds
/// one page of them in memory, not all, and every batch waiting goes into one upsert: under the
/// load generator's workload each upsert writes about 100,000 cells however many batches fed it,
/// and at 1 M events/s the batches of 30 s used to take two folds, so two upserts.
public struct RollupFolder: Sendable {
    /// Batches merged per transaction.
    public var batchesPerFold = 20_000
    /// Batches read per query.
    public var batchesPerPage = 50
    /// Cells upserted per statement.
    public var cellsPerSlice = 10_000
    /// The share of its running time the fold may keep a core busy: after each page and each
    /// slice it sleeps for the rest. 1 never sleeps. A fold at 1 M events/s is seconds of CPU
    /// (merging the deltas here, the upsert in the server); run in one go, those seconds took a
    /// core from the scans, and at full load every alert raised meanwhile waited (docs/performance.md).
    public var busyShare = 1.0
    /// Checked at each pause: once it says so (the daemon is stopping), the fold stops pausing.
    public var hurry: @Sendable () -> Bool = { false }

    public init() {}

    /// What one fold applied.
    public struct Fold: Sendable, Hashable {
        public var batches: Int
        public var cells: Int
        /// Batches whose deltas could not be read (marked folded, reported).
        public var unreadable: [Int64]
    }

    /// Folds up to ``batchesPerFold`` batches; zero batches when nothing waits.
    public func fold(_ connection: LibPQConnection) throws -> Fold {
        try connection.execute("BEGIN")
        var pacer = Pacer(busyShare: busyShare, hurry: hurry)
        do {
            var cells = RollupCells()
            var unreadable: [Int64] = []
            var ids: [Int64] = []
            while ids.count < batchesPerFold {
                // Binary results: the deltas arrive as stored, not as hex at twice the size.
                let rows = try connection.executeBinary(
                    """
                    SELECT id, rollup FROM scan_batches WHERE NOT rolled_up AND id > \(ids.last ?? 0)
                    ORDER BY id LIMIT \(min(batchesPerPage, batchesPerFold - ids.count)) FOR UPDATE SKIP LOCKED
                    """
                )
                for row in rows {
                    let id = LibPQConnection.integer(row[0]) ?? 0
                    ids.append(id)
                    guard let stored = row[1], let raw = try? ZstdCodec.decompress(stored),
                        RollupDeltas.merge(raw, into: &cells)
                    else {
                        if row[1] != nil { unreadable.append(id) }
                        continue
                    }
                }
                if rows.count < batchesPerPage { break }
                pacer.pause()
            }
            guard !ids.isEmpty else {
                try connection.execute("COMMIT")
                return Fold(batches: 0, cells: 0, unreadable: [])
            }
            if !cells.isEmpty {
                // In primary-key order (numbers first: the order of the text columns matters less),
                // cut into slices: the upsert then walks the table's index and pages in order
                // (110,000 cells: 1.0–1.1 s against 1.4–1.5 s in arrival order, measured here),
                // a slice per statement with pauses between.
                let sorted = cells.sorted {
                    ($0.key.hour, $0.key.distributor, $0.key.city, $0.key.gtin)
                        < ($1.key.hour, $1.key.distributor, $1.key.city, $1.key.gtin)
                }
                // The cells' distributors come from the serial index and their cities from the
                // region catalogue; a superuser skips the per-row foreign-key triggers (most of the
                // upsert's cost), as bulk loaders do.
                let superuser = try connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                let skipTriggers = superuser.first?.first == "t"
                if skipTriggers { try connection.execute("SET LOCAL session_replication_role = replica") }
                try upsert(sorted, connection, pacer: &pacer)
                if skipTriggers { try connection.execute("SET LOCAL session_replication_role = origin") }
            }
            try connection.execute(
                "UPDATE scan_batches SET rolled_up = true WHERE NOT rolled_up AND id = ANY($1::bigint[])",
                ["{" + ids.map(String.init).joined(separator: ",") + "}"]
            )
            try connection.execute("COMMIT")
            return Fold(batches: ids.count, cells: cells.count, unreadable: unreadable)
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Upserts sorted cells a slice at a time: each slice is copied (binary, typed) into a staging
    /// table that holds only that slice, upserted, and the staging table emptied, with a pause
    /// before each slice. Staged whole as text, every slice's statement had read all the cells
    /// and cast each column, and the staging was one burst of CPU between the merge and the
    /// upserts (docs/performance.md).
    private func upsert(_ sorted: [RollupCells.Element], _ connection: LibPQConnection, pacer: inout Pacer) throws {
        try connection.execute(
            """
            CREATE TEMPORARY TABLE staged_rollups (hour timestamptz, distributor_id bigint, city_code text, gtin text,
                                                   step text, in_territory boolean, scans bigint) ON COMMIT DROP
            """
        )
        let slice = max(1, cellsPerSlice)
        for start in stride(from: 0, to: sorted.count, by: slice) {
            pacer.pause()
            try connection.copyIn(
                """
                COPY staged_rollups (hour, distributor_id, city_code, gtin, step, in_territory, scans)
                FROM STDIN (FORMAT binary)
                """
            ) { sink in
                for cell in sorted[start..<min(sorted.count, start + slice)] {
                    sink.encoder.beginRow(fieldCount: 7)
                    sink.encoder.appendTimestamp(unixSeconds: cell.key.hour)
                    sink.encoder.appendInt64(cell.key.distributor)
                    // Unpadded, as the region catalogue writes the code.
                    sink.encoder.appendDecimalText(UInt64(cell.key.city), width: 1)
                    sink.encoder.appendDecimalText(cell.key.gtin, width: 14)
                    sink.encoder.appendText(cell.key.step.rawValue)
                    sink.encoder.appendBool(cell.key.inTerritory)
                    sink.encoder.appendInt64(Int64(cell.scans))
                    try sink.endRow()
                }
            }
            try connection.execute(
                """
                INSERT INTO scan_rollups_hourly (hour, distributor_id, city_code, gtin, step, in_territory, scans)
                SELECT hour, distributor_id, city_code, gtin, step, in_territory, scans FROM staged_rollups
                ORDER BY hour, distributor_id, city_code, gtin, step, in_territory
                ON CONFLICT (hour, distributor_id, city_code, gtin, step, in_territory) DO UPDATE
                SET scans = scan_rollups_hourly.scans + excluded.scans
                """
            )
            // Created in this transaction, so emptied in place (no new file, no catalog change).
            try connection.execute("TRUNCATE staged_rollups")
        }
    }
}

import ChannelGuardCodes
import ChannelGuardStore

/// The one transaction that makes a flush durable: the compressed batch with its rollup deltas, the
/// gateway offsets it advances and its alerts, then `NOTIFY channelguard_alerts` — all or nothing.
/// The alerts are folded into incidents afterwards, outside this transaction (`fold_alerts_into_incidents`).
/// ``RollupFolder`` adds the deltas to `scan_rollups_hourly` later.
enum FlushTransaction {
    /// Stores `job` and returns the batch id (0 for a job without events, which stores nothing).
    static func store(
        _ job: StoredBatch,
        node: String,
        flushedAt: Int64,
        connection: LibPQConnection
    ) throws -> Int64 {
        guard job.eventCount > 0 else { return 0 }
        let payload = job.payload
        let rawBytes = job.rawBytes
        try connection.execute("BEGIN")
        do {
            let id = Int64(try connection.execute("SELECT nextval('scan_batches_id_seq')")[0][0] ?? "") ?? 0
            try connection.copyIn(
                """
                COPY scan_batches (id, flushed_at, node, shard, format_version, codec, event_count, alert_count,
                                   first_scan_at, last_scan_at, raw_bytes, payload, rollup, rolled_up)
                FROM STDIN (FORMAT binary)
                """
            ) { sink in
                sink.encoder.beginRow(fieldCount: 14)
                sink.encoder.appendInt64(id)
                sink.encoder.appendTimestamp(microsecondsSince2000: micros(flushedAt))
                sink.encoder.appendText(node)
                sink.encoder.appendInt16(Int16(job.shard))
                sink.encoder.appendInt16(ScanLogFormat.version)
                sink.encoder.appendText("zstd")
                sink.encoder.appendInt32(Int32(job.eventCount))
                sink.encoder.appendInt32(Int32(job.alerts.count))
                sink.encoder.appendTimestamp(microsecondsSince2000: micros(job.firstScan))
                sink.encoder.appendTimestamp(microsecondsSince2000: micros(job.lastScan))
                sink.encoder.appendInt32(Int32(clamping: rawBytes))
                sink.encoder.appendBytes(payload)
                if job.rollup.isEmpty { sink.encoder.appendNull() } else { sink.encoder.appendBytes(job.rollup) }
                sink.encoder.appendBool(job.rollup.isEmpty)
                try sink.endRow()
            }
            // Offsets and alerts travel as array parameters: a temporary table per flush cost the
            // server a catalog change and a file for every transaction.
            if !job.offsets.isEmpty {
                let pairs = stride(from: 0, to: job.offsets.count, by: 2)
                try connection.execute(
                    """
                    INSERT INTO gateway_offsets (gateway_id, stream_id, last_sequence, last_batch_id, updated_at)
                    SELECT gateway_id::integer, \(job.shard), last_sequence::bigint, \(id), now()
                    FROM unnest($1::text[], $2::text[]) AS t(gateway_id, last_sequence)
                    ON CONFLICT (gateway_id, stream_id) DO UPDATE
                    SET last_sequence = greatest(gateway_offsets.last_sequence, excluded.last_sequence),
                        last_batch_id = excluded.last_batch_id, updated_at = excluded.updated_at
                    """,
                    [
                        PostgresArrayLiteral.text(pairs.map { "\(job.offsets[$0])" }),
                        PostgresArrayLiteral.text(pairs.map { "\(job.offsets[$0 + 1])" }),
                    ]
                )
            }
            if !job.alerts.isEmpty {
                // Alert ids in commit order (migration 7): the lock is held until COMMIT, so a
                // reader that sees alert n has seen every alert below it.
                try connection.execute("SELECT pg_advisory_xact_lock(alert_stream_lock_key())")
                let columns = (0..<15).map { column in
                    PostgresArrayLiteral.text(job.alerts.map { column < $0.count ? $0[column] : nil })
                }
                try connection.execute(
                    """
                    INSERT INTO alerts (rule, severity, scanned_at, step, gtin, serial, sscc, distributor_id, scan_party_id,
                                        scan_region, distance_km, price, gateway_id, device, batch_id, evidence)
                    SELECT rule, severity, to_timestamp(scanned_ms::bigint / 1000.0), step, gtin, serial, sscc,
                           distributor_id::bigint, scan_party_id::bigint, scan_region, distance_km::real,
                           price_fen::bigint / 100.0, gateway_id::integer, device, \(id), evidence::jsonb
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                                $15::text[])
                         AS t(rule, severity, scanned_ms, step, gtin, serial, sscc, distributor_id, scan_party_id,
                              scan_region, distance_km, price_fen, gateway_id, device, evidence)
                    """,
                    columns
                )
                try connection.execute("SELECT pg_notify('channelguard_alerts', '\(id)')")
            }
            try connection.execute("COMMIT")
            return id
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
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

    static func micros(_ unixMilliseconds: Int64) -> Int64 {
        (unixMilliseconds - PostgresBinaryCopyEncoder.postgresEpochOffsetSeconds * 1000) * 1000
    }

    static func gtin14(_ value: UInt64) -> String { ScanBatch.padded(value, 14) }
    static func sscc18(_ value: UInt64) -> String { ScanBatch.padded(value, 18) }
}

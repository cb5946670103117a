import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardStore

/// The comparison the event log is measured against: the same events stored the naive way, one
/// row per event, by binary COPY into a table with the indexes such a table needs (serial lookup,
/// time range, region).
public struct NaiveStorage: Sendable {
    public struct Result: Sendable {
        public var events: Int
        public var seconds: Double
        public var tableBytes: Int
        public var logBytes: Int
    }

    public static let table = "naive_scan_events"

    /// The event log on disk: every partition of `scan_batches` with its TOAST and indexes.
    public static func eventLogBytes(_ connection: LibPQConnection) throws -> Int {
        Int(
            try connection.execute(
                "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('scan_batches')"
            )[0][0] ?? "0"
        ) ?? 0
    }

    /// Replays the batches flushed since `since` into the naive table (emptied first), timing the
    /// COPY with its index maintenance; then measures both on disk and drops the table.
    public static func measure(url: DatabaseURL, since: String, logBytesBefore: Int) throws -> Result {
        let reader = try LibPQConnection(url: url)
        let writer = try LibPQConnection(url: url)
        try writer.execute(
            """
            DROP TABLE IF EXISTS \(table);
            CREATE TABLE \(table) (
                step text NOT NULL, region integer NOT NULL, scanned_at timestamptz NOT NULL, gtin bigint NOT NULL,
                serial text, price_fen bigint, party text, device text, seq bigint, gateway integer NOT NULL);
            CREATE INDEX \(table)_serial_idx ON \(table) (gtin, serial);
            CREATE INDEX \(table)_time_idx ON \(table) (scanned_at);
            CREATE INDEX \(table)_region_idx ON \(table) (region, scanned_at);
            """
        )
        let ids = try reader.execute("SELECT min(id), max(id) FROM scan_batches WHERE flushed_at >= '\(since)'")
        let first = Int64(ids.first?[0] ?? "") ?? 0
        let last = Int64(ids.first?[1] ?? "") ?? -1
        let started = Monotonic.now()
        var events = 0
        try writer.copyIn("COPY \(table) FROM STDIN (FORMAT binary)") { sink in
            // Only the run's batches are read: the log may hold days of others.
            guard first <= last else { return }
            try ScanLog.replay(reader, ids: first...last) { batch, _, gateways in
                let steps = batch.steps
                let regions = batch.regions
                let times = batch.times
                let keys = batch.keys
                let prices = batch.prices
                let sequences = batch.sequences
                for index in 0..<batch.count {
                    sink.encoder.beginRow(fieldCount: 10)
                    sink.encoder.appendText(steps[index].rawValue)
                    sink.encoder.appendInt32(Int32(regions[index]))
                    sink.encoder.appendTimestamp(microsecondsSince2000: (times[index] - 946_684_800_000) * 1000)
                    sink.encoder.appendInt64(Int64(bitPattern: keys[index]))
                    sink.encoder.appendText(batch.string(batch.serials[index]))
                    if prices[index] >= 0 { sink.encoder.appendInt64(prices[index]) } else { sink.encoder.appendNull() }
                    let party = batch.string(batch.parties[index])
                    if party.isEmpty { sink.encoder.appendNull() } else { sink.encoder.appendText(party) }
                    let device = batch.string(batch.devices[index])
                    if device.isEmpty { sink.encoder.appendNull() } else { sink.encoder.appendText(device) }
                    sink.encoder.appendInt64(Int64(bitPattern: sequences[index]))
                    sink.encoder.appendInt32(Int32(bitPattern: gateways[index]))
                    try sink.endRow()
                    events += 1
                }
            }
        }
        let seconds = Double(Monotonic.now() - started) / 1e9
        let tableBytes = Int(try writer.execute("SELECT pg_total_relation_size('\(table)')")[0][0] ?? "0") ?? 0
        let logBytes = try eventLogBytes(writer) - logBytesBefore
        try writer.execute("DROP TABLE \(table)")
        return Result(events: events, seconds: seconds, tableBytes: tableBytes, logBytes: logBytes)
    }
}

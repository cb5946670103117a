import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

/// The event log's day partitions as the days go by: the plan alone, then the keeper on a real
/// database across simulated day boundaries, with a retention whose archived days replay.
@Suite(.database, .serialized) struct PartitionKeeperTests {
    @Test func thePlanKeepsDaysAheadAndArchivesPastTheRetention() {
        let plan = PartitionPlan(today: 100, existing: [99, 100, 101, 60, 69, 70], ahead: 3, retentionDays: 30)
        #expect(plan.create == [102, 103])
        #expect(plan.archive == [60, 69])
        #expect(PartitionPlan(today: 100, existing: [60], ahead: 0, retentionDays: nil).archive.isEmpty)
        #expect(PartitionPlan(today: 100, existing: [], ahead: 1, retentionDays: nil).create == [99, 100, 101])
    }

    /// A stored batch of `lines` on day `day` (days since 1970), folded or not.
    static func storeBatch(_ connection: LibPQConnection, day: Int, lines: String, folded: Bool) throws {
        var batch = ScanBatch()
        Array(lines.utf8).withUnsafeBufferPointer { LineProtocolDecoder().decode($0, into: &batch) }
        let payload = try ZstdCodec.compress(ScanLogFormat.payload([(batch, 5)]), level: 1)
        try connection.execute(
            """
            INSERT INTO scan_batches (flushed_at, node, shard, format_version, event_count, first_scan_at,
                                      last_scan_at, raw_bytes, payload, rolled_up)
            VALUES (date '1970-01-01' + $1::integer + time '12:00', 'ingest', 0, 1, $2::integer,
                    '2026-11-23T12:00:00Z', '2026-11-23T12:00:00Z', 100, decode($3, 'hex'), $4::boolean)
            """,
            ["\(day)", "\(batch.count)", Hex.encode(payload), folded ? "true" : "false"]
        )
    }

    static func partitionOf(_ connection: LibPQConnection, day: Int) throws -> String? {
        try connection.execute(
            "SELECT tableoid::regclass::text FROM scan_batches WHERE flushed_at::date = date '1970-01-01' + $1::integer",
            ["\(day)"]
        ).first?.first ?? nil
    }

    @Test func daysAheadAreMadeAsTheyComeAndOldDaysArchivedToFilesThatReplay() throws {
        let connection = try TestDatabase.require().connect()
        let today = Int(try connection.execute("SELECT current_date - date '1970-01-01'")[0][0] ?? "") ?? 0
        let archive = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let keeper = PartitionKeeper(configuration: .init(ahead: 7, retentionDays: 30, archiveDirectory: archive))

        // Ten days on, a daemon that never restarted: the keeper has made the new days' partitions,
        // so their batches land in them, not in the default partition.
        let later = try keeper.run(connection, today: today + 10)
        #expect(later.created.contains(today + 17))
        try Self.storeBatch(
            connection,
            day: today + 12,
            lines: "inspect 440305 1795435200000 (01)06901234567892(21)A1",
            folded: true
        )
        #expect(try Self.partitionOf(connection, day: today + 12)?.hasPrefix("scan_batches_2") == true)

        // Two old days: one folded (archived), one with a batch not yet folded (kept for now).
        for day in [today - 40, today - 35] {
            try connection.execute(
                "SELECT ensure_scan_batch_partitions(date '1970-01-01' + $1::integer, 1)",
                ["\(day)"]
            )
        }
        let lines = """
            sell 440305 1795435200000 (01)06901234567892(21)OLD1 price=1999.00
            inspect 110105 1795435200001 (01)06901234567892(21)OLD2
            """
        try Self.storeBatch(connection, day: today - 40, lines: lines, folded: true)
        try Self.storeBatch(
            connection,
            day: today - 35,
            lines: "inspect 440305 1795435200000 (01)06901234567892(21)OLD3",
            folded: false
        )
        let outcome = try keeper.run(connection, today: today)
        #expect(outcome.archived == [today - 40])
        #expect(outcome.postponed == [today - 35])
        #expect(try Self.partitionOf(connection, day: today - 40) == nil)
        #expect(try Self.partitionOf(connection, day: today - 35) != nil)

        // The archived day replays to the same events.
        var replayed: [String] = []
        let failures = try ScanLog.replay(archive: archive) { batch, _, gateways in
            #expect(gateways.allSatisfy { $0 == 5 })
            replayed += (0..<batch.count).map(batch.line(at:))
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(replayed.count == 2 && replayed[0].contains("OLD1") && replayed[1].contains("OLD2"))
        // A damaged line is named with its file and line, and the rest still read.
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: archive).first)
        let handle = try #require(FileHandle(forWritingAtPath: "\(archive)/\(file)"))
        handle.seekToEndOfFile()
        handle.write(Data("not a batch\n".utf8))
        handle.closeFile()
        var again = 0
        let damaged = try ScanLog.replay(archive: archive) { batch, _, _ in again += batch.count }
        #expect(again == 2 && damaged.count == 1 && damaged[0].contains("line 2"))
    }
}

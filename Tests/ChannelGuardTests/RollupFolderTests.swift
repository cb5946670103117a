import ChannelGuardCodes
import ChannelGuardCommerce
import ChannelGuardStore
import ChannelGuardTestSupport
import Testing

@testable import ChannelGuardIngest

/// The rollup fold against the real database: deltas read a page at a time add up to the same
/// cells, each batch counted once, batches locked by another folder left to a later fold.
@Suite(.database, .serialized) struct RollupFolderTests {
    static let hour: Int64 = 1_795_435_200  // 2026-11-23 12:00 UTC

    /// Stores a batch whose only content that matters here is its rollup delta.
    static func storeBatch(_ connection: LibPQConnection, _ cells: RollupCells, rolledUp: Bool = false) throws {
        let delta = try ZstdCodec.compress(RollupDeltas.encode(cells), level: 1)
        try connection.execute(
            """
            INSERT INTO scan_batches (flushed_at, node, shard, format_version, codec, event_count, alert_count,
                                      first_scan_at, last_scan_at, raw_bytes, payload, rollup, rolled_up)
            VALUES (now(), 'test', 0, 1, 'zstd', 1, 0, now(), now(), 1, '\\x00', decode($1, 'hex'), $2)
            """,
            [delta.map { String(format: "%02x", $0) }.joined(), rolledUp ? "t" : "f"]
        )
    }

    static func stored(_ connection: LibPQConnection) throws -> [RollupKey: Int64] {
        var out: [RollupKey: Int64] = [:]
        let rows = try connection.execute(
            """
            SELECT extract(epoch FROM hour)::bigint, distributor_id, city_code, gtin, step, in_territory, scans
            FROM scan_rollups_hourly
            """
        )
        for row in rows {
            let key = RollupKey(
                hour: Int64(row[0]!)!,
                distributor: Int64(row[1]!)!,
                city: UInt32(row[2]!)!,
                gtin: UInt64(row[3]!)!,
                step: ScanStep(rawValue: row[4]!)!,
                inTerritory: row[5] == "t"
            )
            out[key] = Int64(row[6]!)!
        }
        return out
    }

    @Test func pagesOfDeltasAddUpOnceEachAndLockedBatchesWait() throws {
        let connection = try TestDatabase.require().connect()
        let distributors = try (1...3).map { number in
            try connection.execute(
                "INSERT INTO distributors (code, name, tier) VALUES ('D\(number)', 'D\(number)', 'hq') RETURNING id"
            )[0][0].flatMap { Int64($0) }!
        }
        var generator = SplitMix64(seed: 7)
        func randomCells() -> RollupCells {
            var cells = RollupCells()
            for _ in 0..<Int.random(in: 1...40, using: &generator) {
                let key = RollupKey(
                    hour: Self.hour + 3600 * Int64.random(in: 0..<2, using: &generator),
                    distributor: distributors.randomElement(using: &generator)!,
                    city: [440300, 110100][Int.random(in: 0..<2, using: &generator)],
                    gtin: 6_901_234_567_892,
                    step: [.sell, .inspect, .receive].randomElement(using: &generator)!,
                    inTerritory: Bool.random(using: &generator)
                )
                cells.add(key, Int64.random(in: 1...5, using: &generator))
            }
            return cells
        }
        // A batch folded already must not be counted again; eleven wait.
        try Self.storeBatch(connection, randomCells(), rolledUp: true)
        var batches: [RollupCells] = []
        for _ in 0..<11 {
            batches.append(randomCells())
            try Self.storeBatch(connection, batches.last!)
        }
        func model(_ indices: some Sequence<Int>) -> [RollupKey: Int64] {
            var out: [RollupKey: Int64] = [:]
            for index in indices { for (key, scans) in batches[index] { out[key, default: 0] += scans } }
            return out
        }
        let ids = try connection.execute("SELECT id FROM scan_batches WHERE NOT rolled_up ORDER BY id").map {
            Int64($0[0]!)!
        }
        try #require(ids.count == 11)

        // Another folder holds the fourth batch: skipped, and the page goes on past it.
        let other = try TestDatabase.require().connect()
        try other.execute("BEGIN")
        try other.execute("SELECT id FROM scan_batches WHERE id = \(ids[3]) FOR UPDATE")

        var folder = RollupFolder()
        folder.batchesPerPage = 2
        folder.batchesPerFold = 7
        folder.cellsPerSlice = 5  // many slices, each staged and upserted on its own
        let first = try folder.fold(connection)
        #expect(first.batches == 7 && first.unreadable.isEmpty)
        let firstSeven = [0, 1, 2, 4, 5, 6, 7]
        #expect(first.cells == model(firstSeven).count)
        #expect(try Self.stored(connection) == model(firstSeven))

        try other.execute("ROLLBACK")
        let second = try folder.fold(connection)
        #expect(second.batches == 4)
        #expect(try Self.stored(connection) == model(0..<11))
        #expect(try folder.fold(connection).batches == 0)
        #expect(try connection.execute("SELECT count(*) FROM scan_batches WHERE NOT rolled_up")[0][0] == "0")
    }
}

/// The fold's pacing, on a clock the test moves: it sleeps for the rest of its share, not at all
/// at a share of 1 or when told to hurry, and never for more than 2 s at once.
@Suite struct PacerTests {
    final class Clock: @unchecked Sendable {
        var now: UInt64 = 1_000
        var slept: [UInt64] = []
    }

    @Test func sleepsForTheRestOfItsShare() {
        let clock = Clock()
        var hurrying = false
        var pacer = Pacer(
            busyShare: 0.25,
            hurry: { hurrying },
            clock: { clock.now },
            sleep: {
                clock.slept.append($0)
                clock.now += $0
            }
        )
        for busy: UInt64 in [10_000_000, 40_000_000, 0, 1_000_000_000] {
            clock.now += busy
            pacer.pause()
        }
        #expect(clock.slept == [30_000_000, 120_000_000, 0, 2_000_000_000])
        hurrying = true
        clock.now += 10_000_000
        pacer.pause()
        #expect(clock.slept.count == 4)

        let whole = Clock()
        var unpaced = Pacer(busyShare: 1, clock: { whole.now }, sleep: { whole.slept.append($0) })
        whole.now += 50_000_000
        unpaced.pause()
        #expect(whole.slept.isEmpty)
    }
}

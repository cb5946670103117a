import ChannelGuardIndex
import ChannelGuardIngest
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Logging
import Testing

/// The index built from the real bindings tables with COPY, and the loader's choice between a
/// snapshot and a rebuild: current snapshots are used, stale, damaged or missing ones are replaced.
@Suite(.database) struct SerialIndexRebuildTests {
    static let gtin = "06901234567892"
    static let pallet: UInt64 = 106_141_411_234_567_897
    static let carton: UInt64 = 106_141_411_234_567_880

    /// HQ ships to an agent (shipment S1: serials, a carton on a pallet, a printed run) and to a
    /// dealer (S2: more serials).
    static let setup = """
        INSERT INTO distributors (code, name, tier) VALUES ('HQ', 'HQ', 'hq');
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'AGENT', 'Agent', 'provincial_agent', id FROM distributors WHERE code = 'HQ';
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'DEALER', 'Dealer', 'city_dealer', id FROM distributors WHERE code = 'AGENT';
        INSERT INTO products (gtin, sku, name, category) VALUES ('\(gtin)', 'P1', 'Product', 'test');
        INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
            SELECT 'S1', h.id, a.id, '2026-03-01 08:00+00' FROM distributors h, distributors a WHERE h.code = 'HQ' AND a.code = 'AGENT';
        INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
            SELECT 'S2', a.id, d.id, '2026-04-01 09:30+00' FROM distributors a, distributors d WHERE a.code = 'AGENT' AND d.code = 'DEALER';
        INSERT INTO cartons (sscc, gtin, shipment_id, bound_at) SELECT '\(pallet)', NULL, id, '2026-03-01 08:00+00' FROM shipments WHERE code = 'S1';
        INSERT INTO cartons (sscc, parent_sscc, gtin, shipment_id, bound_at)
            SELECT '\(carton)', '\(pallet)', '\(gtin)', id, '2026-03-01 08:00+00' FROM shipments WHERE code = 'S1';
        INSERT INTO serial_bindings (gtin, serial, shipment_id, carton_sscc, bound_at)
            SELECT '\(gtin)', 'BOX' || n, s.id, '\(carton)', '2026-03-01 08:00+00' FROM shipments s, generate_series(1, 3) n WHERE s.code = 'S1';
        INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
            SELECT '\(gtin)', 'SN' || lpad(n::text, 6, '0'), s.id, '2026-04-01 09:30+00' FROM shipments s, generate_series(1, 500) n WHERE s.code = 'S2';
        INSERT INTO serial_range_bindings (gtin, serial_prefix, unit_count, shipment_id, bound_at)
            SELECT '\(gtin)', 'RUN7', 10000, id, '2026-03-01 08:00+00' FROM shipments WHERE code = 'S1';
        """

    func ids(_ connection: LibPQConnection) throws -> (agent: Int64, dealer: Int64, s1: Int64, s2: Int64) {
        let rows = try connection.execute(
            """
            SELECT (SELECT id FROM distributors WHERE code = 'AGENT'), (SELECT id FROM distributors WHERE code = 'DEALER'),
                   (SELECT id FROM shipments WHERE code = 'S1'), (SELECT id FROM shipments WHERE code = 'S2')
            """
        )
        let values = rows[0].map { Int64($0!)! }
        return (values[0], values[1], values[2], values[3])
    }

    static func key(_ serial: String) throws -> IndexKey {
        try IndexKey(gtin: UInt64(gtin)!, serial: Array(serial.utf8))
    }

    @Test func rebuildMatchesTheTablesAndTheLoaderReplacesBadSnapshots() throws {
        let connection = try TestDatabase.require().connect()
        try connection.execute(Self.setup)
        let (agent, dealer, s1, s2) = try ids(connection)

        let (index, report) = try SerialIndexRebuild(shardCount: 2).run(connection)
        #expect(report.serials == 503 && report.ranges == 1 && report.cartons == 2 && report.rejectedRows == 0)
        #expect(report.watermark == (try SerialIndexRebuild.watermark(connection)))
        #expect(report.watermark > 0)
        let sold = try #require(index.lookup(try Self.key("SN000042")))
        #expect(sold.source == .serial)
        #expect(sold.binding.distributor == dealer && sold.binding.shipment == s2)
        #expect(sold.binding.boundAt == Int64(Date(timeIntervalSince1970: 1_775_035_800).timeIntervalSince1970) * 1000)
        let boxed = try #require(index.lookup(try Self.key("BOX2")))
        #expect(boxed.binding.distributor == agent && boxed.binding.shipment == s1)
        #expect(boxed.binding.flags.contains(.fromCarton))
        let printed = try #require(index.lookup(try Self.key("RUN70001234")))
        #expect(printed.source == .range && printed.binding.distributor == agent)
        #expect(index.lookup(try IndexKey(sscc: Self.pallet))?.source == .carton)
        #expect(try index.contents(sscc: Self.pallet) == [try IndexKey(sscc: Self.carton)])
        #expect(
            try index.contents(sscc: Self.carton) == [try Self.key("BOX1"), try Self.key("BOX2"), try Self.key("BOX3")]
        )
        #expect(index.lookup(try Self.key("SN999999")) == nil)

        // The loader: no snapshot → rebuild and write one; then the snapshot is used.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("index.snapshot").path
        let loader = SerialIndexLoader(snapshotPath: path, shardCount: 2)
        let logger = Logger(label: "test")
        let (_, first) = try loader.load(connection, logger: logger)
        #expect(first.source == .rebuilt && first.snapshotProblem?.code == .snapshotIO)
        let (fromSnapshot, second) = try loader.load(connection, logger: logger)
        #expect(second.source == .snapshot && second.snapshotProblem == nil)
        #expect(fromSnapshot.count == index.count)
        #expect(fromSnapshot.lookup(try Self.key("SN000042")) == sold)

        // A snapshot from another database is refused even at the same watermark (two databases
        // loaded alike reach the same one): here the identity changes under the same bindings.
        #expect(second.database == (try SerialIndexRebuild.databaseIdentity(connection)))
        try connection.execute("UPDATE database_identity SET id = gen_random_uuid()")
        let (_, foreign) = try loader.load(connection, logger: logger)
        #expect(foreign.source == .rebuilt && foreign.snapshotProblem?.code == .snapshotForeign)
        #expect(foreign.watermark == second.watermark && foreign.database != second.database)
        #expect(try IndexSnapshot.header(at: path).database == foreign.database)
        #expect(try loader.load(connection, logger: logger).1.source == .snapshot)

        // A binding changed by anyone makes the snapshot stale: rebuilt, and the change is in.
        try connection.execute(
            "INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at) SELECT '\(Self.gtin)', 'LATE1', id, now() FROM shipments WHERE code = 'S2'"
        )
        let (fresh, third) = try loader.load(connection, logger: logger)
        #expect(third.source == .rebuilt && third.snapshotProblem?.code == .snapshotStale)
        #expect(fresh.lookup(try Self.key("LATE1"))?.binding.distributor == dealer)
        #expect(try IndexSnapshot.header(at: path).watermark == (try SerialIndexRebuild.watermark(connection)))
        // A transfer (a shipment's consignee changing) is a change too.
        try connection.execute("UPDATE shipments SET status = 'delivered' WHERE code = 'S2'")
        #expect(try loader.load(connection, logger: logger).1.snapshotProblem?.code == .snapshotStale)

        // A damaged snapshot is refused and replaced by a sound one.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let (_, fourth) = try loader.load(connection, logger: logger)
        #expect(fourth.source == .rebuilt && fourth.snapshotProblem?.code == .snapshotChecksum)
        #expect(try loader.load(connection, logger: logger).1.source == .snapshot)

        // Another shard count cannot use the snapshot.
        let (_, reshaped) = try SerialIndexLoader(snapshotPath: path, shardCount: 3).load(connection, logger: logger)
        #expect(reshaped.snapshotProblem?.code == .snapshotShape)

        // A row that cannot be packed (a distributor id beyond 20 bits) is counted and described;
        // every other row still loads.
        try connection.execute(
            """
            INSERT INTO distributors (id, code, name, tier, parent_id) OVERRIDING SYSTEM VALUE
                SELECT 2000000, 'FAR', 'Far', 'city_dealer', id FROM distributors WHERE code = 'AGENT';
            INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
                SELECT 'S3', a.id, 2000000, now() FROM distributors a WHERE a.code = 'AGENT';
            INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at) SELECT '\(Self.gtin)', 'FAR1', id, now() FROM shipments WHERE code = 'S3';
            """
        )
        let (partial, rejected) = try SerialIndexRebuild(shardCount: 1).run(connection)
        #expect(rejected.rejectedRows == 1 && rejected.serials == 504)
        #expect(rejected.rejections.first?.contains("FAR1") == true)
        #expect(rejected.rejections.first?.contains("value_out_of_range") == true)
        #expect(partial.lookup(try Self.key("FAR1")) == nil)
        #expect(partial.lookup(try Self.key("LATE1")) != nil)
    }
}

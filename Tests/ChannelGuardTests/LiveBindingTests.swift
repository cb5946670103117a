import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

/// Bindings written while the daemon runs, of any size and kind, reach the index it checks scans
/// against: a statement of 20,000 units (past the old 10,000-row cut-off), a printed run, a carton,
/// a consignee changed on a whole shipment, and two transactions committing out of id order.
@Suite(.database, .serialized) struct LiveBindingTests {
    static let gtin = InChunkDetectionTests.gtin

    static func latestChange(_ connection: LibPQConnection) throws -> Int64 {
        Int64(try connection.execute("SELECT coalesce(max(seq), 0) FROM binding_changes")[0][0] ?? "0") ?? 0
    }

    /// Sends `lines` as one frame of gateway 5 and waits for its acknowledgement.
    static func scan(_ lines: [String], sequence: UInt64, tcp: Int) throws {
        let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
        try socket.send(try IngestEndToEndTests.frame(lines.joined(separator: "\n"), sequence: sequence, gateway: 5))
        #expect(try IngestEndToEndTests.acknowledgement(socket) == .durable(through: sequence))
    }

    static func line(_ step: String, _ region: String, _ code: String, day: Int = 23) -> String {
        "\(step) \(region) 2026-11-\(day)T12:00:00Z \(code)"
    }

    /// A valid SSCC with extension digit 0 and serial reference `number`.
    static func sscc(_ number: Int) -> String {
        let body = "0690123" + String(repeating: "0", count: 10 - String(number).count) + String(number)
        return body + String(GS1CheckDigit.compute(forDataDigits: body)!)
    }

    @Test func bindingsOfAnySizeAreCheckedFromTheirNextScan() async throws {
        let connection = try TestDatabase.require().connect()
        try InChunkDetectionTests.prepare()
        try await IngestHarness.run(url: try TestDatabase.require().url) { tcp, _, service in
            let connection = try TestDatabase.require().connect()
            let keysBefore = service.indexKeys
            // A truck of 20,000 units in one statement, a printed run and a carton with a unit in it.
            try connection.execute(
                """
                INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
                    SELECT 'TRUCK', h.id, d.id, now() FROM distributors h, distributors d
                    WHERE h.code = 'HQ' AND d.code = 'DEALER';
                INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
                    SELECT '\(Self.gtin)', 'T' || lpad(n::text, 6, '0'), s.id, now()
                    FROM shipments s, generate_series(1, 20000) n WHERE s.code = 'TRUCK';
                INSERT INTO serial_range_bindings (gtin, serial_prefix, unit_count, shipment_id, bound_at)
                    SELECT '\(Self.gtin)', 'RUN7', 1000, id, now() FROM shipments WHERE code = 'TRUCK';
                INSERT INTO cartons (sscc, gtin, shipment_id, bound_at)
                    SELECT '\(Self.sscc(42))', '\(Self.gtin)', id, now() FROM shipments WHERE code = 'TRUCK';
                """
            )
            let change = try Self.latestChange(connection)
            #expect(try await IngestHarness.wait(seconds: 10) { service.bindingsApplied >= change })
            #expect(service.indexKeys >= keysBefore + 20_001)
            let metrics = service.prometheusText()
            #expect(metrics.contains("channelguard_binding_changes_applied \(service.bindingsApplied)\n"))
            #expect(service.stats.bindingKeysApplied.count >= 20_002)
            try Self.scan(
                [
                    Self.line("inspect", "440305", "(01)\(Self.gtin)(21)T000001"),
                    Self.line("inspect", "440305", "(01)\(Self.gtin)(21)T020000"),
                    Self.line("inspect", "440305", "(01)\(Self.gtin)(21)RUN7X1"),
                    Self.line("inspect", "440305", "(00)\(Self.sscc(42))"),
                ],
                sequence: 100,
                tcp: tcp
            )
            // The whole truck goes to the Beijing dealer: its units are that dealer's now.
            try connection.execute(
                "UPDATE shipments SET to_distributor_id = (SELECT id FROM distributors WHERE code = 'BEIJING') WHERE code = 'TRUCK'"
            )
            let moved = try Self.latestChange(connection)
            #expect(try await IngestHarness.wait(seconds: 10) { service.bindingsApplied >= moved })
            try Self.scan(
                [
                    Self.line("sell", "110105", "(01)\(Self.gtin)(21)T010000 price=1999.00", day: 25),
                    Self.line("sell", "110105", "(01)\(Self.gtin)(21)RUN7X2 price=1999.00", day: 25),
                    Self.line("inspect", "110105", "(00)\(Self.sscc(42))", day: 25),
                ],
                sequence: 101,
                tcp: tcp
            )
        }
        let alerts = try connection.execute(
            "SELECT rule || ' ' || coalesce(serial, sscc) FROM alerts WHERE serial IN ('T000001', 'T020000', 'RUN7X1', 'T010000', 'RUN7X2') OR sscc = '\(Self.sscc(42))'"
        ).compactMap { $0[0] }
        #expect(alerts.isEmpty, "\(alerts)")
    }

    /// Two transactions: the first takes a change id and commits after the second. Change ids are
    /// handed out in commit order, so the second waits for the first, and the follower sees both.
    @Test func aChangeCommittedAfterALaterOneIsNotSkipped() async throws {
        let connection = try TestDatabase.require().connect()
        try InChunkDetectionTests.prepare()
        try await IngestHarness.run(url: try TestDatabase.require().url) { tcp, _, service in
            let connection = try TestDatabase.require().connect()
            let first = try TestDatabase.require().connect()
            try first.execute(
                """
                BEGIN;
                INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
                    SELECT '\(Self.gtin)', 'SLOW1', id, now() FROM shipments WHERE code = 'S1';
                """
            )
            let url = try TestDatabase.require().url
            let second = Task.detached {
                try LibPQConnection(url: url).execute(
                    """
                    INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
                        SELECT '\(Self.gtin)', 'FAST1', id, now() FROM shipments WHERE code = 'S1'
                    """
                )
            }
            // Long enough for the follower to have applied the second, had it committed first.
            try await Task.sleep(for: .milliseconds(1_500))
            try first.execute("COMMIT")
            try await second.value
            let change = try Self.latestChange(connection)
            #expect(try await IngestHarness.wait(seconds: 10) { service.bindingsApplied >= change })
            try Self.scan(
                [
                    Self.line("inspect", "440305", "(01)\(Self.gtin)(21)SLOW1"),
                    Self.line("inspect", "440305", "(01)\(Self.gtin)(21)FAST1"),
                ],
                sequence: 200,
                tcp: tcp
            )
        }
        let alerts = try connection.execute("SELECT rule, serial FROM alerts WHERE serial IN ('SLOW1', 'FAST1')")
        #expect(alerts.isEmpty, "\(alerts)")
    }
}

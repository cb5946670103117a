import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardTestSupport
import Foundation
import Testing

/// Independent cases of scans that share a frame, a datagram or a TCP write with earlier scans of
/// the same serial (a gateway flushing its backlog sends exactly such chunks), and of scans that
/// name what the reference data does not know. Each is judged as if its scans had come one by one.
@Suite(.database, .serialized) struct InChunkDetectionTests {
    static let gtin = IngestEndToEndTests.gtin
    static let secret = IngestEndToEndTests.secret

    static let setup = """
        INSERT INTO distributors (code, name, tier) VALUES ('HQ', 'HQ', 'hq');
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'AGENT', 'Agent', 'provincial_agent', id FROM distributors WHERE code = 'HQ';
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'DEALER', 'Dealer', 'city_dealer', id FROM distributors WHERE code = 'AGENT';
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'BEIJING', 'Beijing dealer', 'city_dealer', id FROM distributors WHERE code = 'HQ';
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'LAPSED', 'Dealer whose grant ended', 'city_dealer', id FROM distributors WHERE code = 'HQ';
        INSERT INTO territory_grants (distributor_id, region_code, valid_from) SELECT id, '440000', '2020-01-01' FROM distributors WHERE code = 'AGENT';
        INSERT INTO territory_grants (distributor_id, region_code, valid_from) SELECT id, '440300', '2020-01-01' FROM distributors WHERE code = 'DEALER';
        INSERT INTO territory_grants (distributor_id, region_code, valid_from) SELECT id, '110000', '2020-01-01' FROM distributors WHERE code = 'BEIJING';
        INSERT INTO territory_grants (distributor_id, region_code, valid_from, valid_to) SELECT id, '440300', '2020-01-01', '2021-01-01' FROM distributors WHERE code = 'LAPSED';
        INSERT INTO products (gtin, sku, name, category) VALUES ('\(gtin)', 'P1', 'Product', 'test');
        INSERT INTO minimum_retail_prices (product_id, min_price, valid_from) SELECT id, 1000.00, '2020-01-01' FROM products;
        INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
            SELECT 'S1', h.id, d.id, '2026-03-01 08:00+00' FROM distributors h, distributors d WHERE h.code = 'HQ' AND d.code = 'DEALER';
        INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
            SELECT 'S2', h.id, d.id, '2020-03-01 08:00+00' FROM distributors h, distributors d WHERE h.code = 'HQ' AND d.code = 'LAPSED';
        INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
            SELECT '\(gtin)', 'SN' || lpad(n::text, 3, '0'), s.id, '2026-03-01 08:00+00' FROM shipments s, generate_series(1, 100) n WHERE s.code = 'S1';
        INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
            SELECT '\(gtin)', 'EX001', id, '2020-03-01 08:00+00' FROM shipments WHERE code = 'S2';
        INSERT INTO gateways (id, code, name, kind, steps, secret, owner_distributor_id)
            SELECT g, 'GW' || g, 'Gateway ' || g, 'warehouse_pda', '{ship,receive,sell,activate,inspect,return}',
                   '\\x000102030405060708090a0b0c0d0e0f', id
            FROM distributors, (VALUES (5), (6), (7)) AS v(g) WHERE code = 'HQ';
        """

    /// The suite's network, made by whichever test runs first.
    static func prepare() throws {
        let connection = try TestDatabase.require().connect()
        if try connection.execute("SELECT count(*) FROM distributors")[0][0] == "0" { try connection.execute(setup) }
    }

    /// The alerts of these serials, as "rule serial", sorted.
    static func alerts(_ serials: [String]) throws -> [String] {
        let list = serials.map { "'\($0)'" }.joined(separator: ",")
        return try TestDatabase.require().connect().execute(
            "SELECT rule || ' ' || serial FROM alerts WHERE serial IN (\(list)) ORDER BY 1"
        ).compactMap { $0[0] }.sorted()
    }

    static func line(_ step: String, _ region: String, _ second: Int, _ serial: String, _ extra: String = "") -> String
    {
        "\(step) \(region) 2026-11-23T12:00:\(second < 10 ? "0" : "")\(second)Z (01)\(gtin)(21)\(serial) \(extra)"
    }

    @Test func scansOfOneSerialInOneChunkSeeEachOther() async throws {
        try Self.prepare()
        let frame = [
            // Two sales of one unit, two activations of another.
            Self.line("sell", "440305", 0, "SN001", "price=1999.00"),
            Self.line("sell", "440305", 1, "SN001", "price=1999.00"),
            Self.line("activate", "440305", 2, "SN002"),
            Self.line("activate", "440305", 3, "SN002"),
            // A unit shipped to the dealer and sold by it in its territory: known from its ship scan.
            Self.line("ship", "440305", 4, "NEW1", "party=DEALER"),
            Self.line("sell", "440305", 5, "NEW1", "price=1999.00"),
            // A unit of the dealer's moved to the Beijing dealer and sold in Beijing: judged against
            // its new owner.
            Self.line("ship", "440305", 6, "SN003", "party=BEIJING"),
            Self.line("sell", "110105", 7, "SN003", "price=1999.00"),
            // Sold, then sold again in Beijing a minute later: a second sale (the clone's travel
            // is not raised beside it).
            Self.line("sell", "440305", 8, "SN004", "price=1999.00"),
            Self.line("sell", "110105", 9, "SN004", "price=1999.00"),
        ].joined(separator: "\n")
        let datagram = [
            Self.line("sell", "440305", 10, "SN010", "price=1999.00"),
            Self.line("sell", "440305", 11, "SN010", "price=1999.00"),
        ].joined(separator: "\n")
        try await IngestHarness.run(url: try TestDatabase.require().url) { tcp, udp, service in
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            try socket.send(try IngestEndToEndTests.frame(frame, sequence: 1, gateway: 5))
            #expect(try IngestEndToEndTests.acknowledgement(socket) == .durable(through: 1))
            let before = service.stats.stored.count
            let udpSocket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
            try udpSocket.send(try IngestEndToEndTests.frame(datagram, sequence: 1, gateway: 6))
            #expect(try await IngestHarness.wait(seconds: 10) { service.stats.stored.count >= before + 2 })
        }
        #expect(
            try Self.alerts(["SN001", "SN002", "NEW1", "SN003", "SN004", "SN010"])
                == [
                    "duplicate SN001", "duplicate SN002", "duplicate SN004", "duplicate SN010",
                    "out_of_territory SN004",
                ]
        )
    }

    @Test func scansNamingWhatIsNotKnownAreAlerted() async throws {
        let frame = [
            // A bound unit sold in a region the catalogue lacks: only that (not out of territory).
            Self.line("sell", "449999", 20, "SN020", "price=1999.00"),
            // A code never shipped, inspected in such a region: both.
            Self.line("inspect", "449999", 21, "NOPE1"),
            // Received by a party that is no distributor.
            Self.line("receive", "440305", 22, "SN021", "party=NOBODY"),
            // A unit whose distributor's only grant ended years ago, sold in its old county.
            Self.line("sell", "440305", 23, "EX001", "price=1999.00"),
            // A code never shipped, sold under the floor.
            Self.line("sell", "440305", 24, "NOPE2", "price=500.00"),
        ].joined(separator: "\n")
        try Self.prepare()
        try await IngestHarness.run(url: try TestDatabase.require().url) { tcp, _, _ in
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            try socket.send(try IngestEndToEndTests.frame(frame, sequence: 1, gateway: 7))
            #expect(try IngestEndToEndTests.acknowledgement(socket) == .durable(through: 1))
        }
        #expect(
            try Self.alerts(["SN020", "NOPE1", "SN021", "EX001", "NOPE2"])
                == [
                    "no_territory EX001", "not_consignee SN021", "price_below_floor NOPE2", "unknown_code NOPE1",
                    "unknown_code NOPE2", "unknown_region NOPE1", "unknown_region SN020",
                ]
        )
        // An unknown region's alert keeps the code as scanned, and so does its incident.
        let connection = try TestDatabase.require().connect()
        #expect(try connection.execute("SELECT scan_region FROM alerts WHERE serial = 'SN020'")[0][0] == "449999")
    }
}

import ChannelGuardApp
import ChannelGuardCodes
import ChannelGuardCommerce
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// The daemon over loopback with the real database: known events in, exactly the expected alerts
/// out, batches that replay to the same events, resent frames never counted twice, and hostile
/// traffic that changes nothing.
@Suite(.database, .serialized) struct IngestEndToEndTests {
    static let gtin = "06901234567892"
    static let gateway: UInt32 = 5
    static let secret: [UInt8] = Array(0..<16)

    static let setup = """
        INSERT INTO distributors (code, name, tier) VALUES ('HQ', 'HQ', 'hq');
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'AGENT', 'Agent', 'provincial_agent', id FROM distributors WHERE code = 'HQ';
        INSERT INTO distributors (code, name, tier, parent_id) SELECT 'DEALER', 'Dealer', 'city_dealer', id FROM distributors WHERE code = 'AGENT';
        INSERT INTO territory_grants (distributor_id, region_code, valid_from) SELECT id, '440000', '2020-01-01' FROM distributors WHERE code = 'AGENT';
        INSERT INTO territory_grants (distributor_id, region_code, valid_from) SELECT id, '440300', '2020-01-01' FROM distributors WHERE code = 'DEALER';
        INSERT INTO products (gtin, sku, name, category) VALUES ('\(gtin)', 'P1', 'Product', 'test');
        INSERT INTO minimum_retail_prices (product_id, min_price, valid_from) SELECT id, 1000.00, '2020-01-01' FROM products;
        INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
            SELECT 'S1', h.id, d.id, '2026-03-01 08:00+00' FROM distributors h, distributors d WHERE h.code = 'HQ' AND d.code = 'DEALER';
        INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
            SELECT '\(gtin)', 'SN' || lpad(n::text, 3, '0'), s.id, '2026-03-01 08:00+00' FROM shipments s, generate_series(1, 100) n WHERE s.code = 'S1';
        INSERT INTO gateways (id, code, name, kind, steps, secret, owner_distributor_id)
            SELECT \(gateway), 'GW5', 'Gateway 5', 'warehouse_pda', '{ship,receive,sell,activate,inspect,return}',
                   '\\x000102030405060708090a0b0c0d0e0f', id FROM distributors WHERE code = 'HQ';
        """

    static let frameOne = """
        sell 440305 2026-11-23T12:00:00Z (01)\(gtin)(21)SN001 price=1999.00 device=POS-1
        activate 110105 2026-11-23T12:00:01Z (01)\(gtin)(21)SN002
        sell 440305 2026-11-23T12:00:02Z (01)\(gtin)(21)SN003 price=500.00
        receive 440305 2026-11-23T12:00:03Z (01)\(gtin)(21)SN004 party=AGENT
        inspect 440305 2026-11-23T12:00:04Z (01)\(gtin)(21)SN999
        ship 440305 2026-11-23T12:00:05Z (01)\(gtin)(21)NEW1 party=DEALER
        """
    static let frameTwo = """
        sell 440305 2026-11-24T12:00:00Z (01)\(gtin)(21)SN001 price=1999.00
        sell 440103 2026-11-24T12:00:01Z (01)\(gtin)(21)NEW1 price=1999.00
        """

    static func batch(_ text: String) -> ScanBatch {
        var batch = ScanBatch()
        Array(text.utf8).withUnsafeBufferPointer { LineProtocolDecoder().decode($0, into: &batch) }
        return batch
    }

    static func frame(
        _ text: String,
        sequence: UInt64,
        secret: [UInt8] = secret,
        gateway: UInt32 = gateway
    ) throws -> [UInt8] {
        try BinaryFrameEncoder(gatewayID: gateway, secret: secret).encode(batch(text), sequence: sequence)
    }

    func withIngest(
        _ body: @Sendable (_ tcp: Int, _ udp: Int, _ service: IngestService) async throws -> Void
    ) async throws {
        try await IngestHarness.run(url: try TestDatabase.require().url, body)
    }

    static func acknowledgement(_ socket: ClientSocket) throws -> FrameAcknowledgement {
        guard let bytes = socket.receive(exactly: FrameAcknowledgement.encodedBytes),
            let ack = bytes.withUnsafeBufferPointer({ FrameAcknowledgement(decoding: $0) })
        else { throw SendError("no acknowledgement") }
        return ack
    }

    @Test func knownEventsGiveTheExpectedAlertsReplayAndNeverCountTwice() async throws {
        let connection = try TestDatabase.require().connect()
        try connection.execute(Self.setup)
        try await withIngest { tcp, _, service in
            let listener = try TestDatabase.require().connect()
            try listener.listen(AlertAnnouncer.channel)
            try listener.listen(AlertAnnouncer.storedChannel)
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            try socket.send(try Self.frame(Self.frameOne, sequence: 1))
            #expect(try Self.acknowledgement(socket) == .durable(through: 1))
            try socket.send(try Self.frame(Self.frameTwo, sequence: 2))
            #expect(try Self.acknowledgement(socket) == .durable(through: 2))
            // Acknowledged means committed: the events are in the database now.
            let check = try TestDatabase.require().connect()
            #expect(try check.execute("SELECT sum(event_count) FROM scan_batches")[0][0] == "8")

            // A gateway that lost the acknowledgements resends both frames on a new connection.
            let again = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            try again.send(try Self.frame(Self.frameOne, sequence: 1))
            try again.send(try Self.frame(Self.frameTwo, sequence: 2))
            var last = try Self.acknowledgement(again)
            if last.sequence == 1 { last = try Self.acknowledgement(again) }
            #expect(last == .durable(through: 2))

            // The rollup folds (every half second here) are counted and timed: every stored batch
            // folded once, each fold one observation.
            let batches = try check.execute("SELECT count(*) FROM scan_batches")[0][0]
            #expect(
                try await IngestHarness.wait(seconds: 10) { batches == "\(service.stats.rollupFoldBatches.count)" }
            )
            #expect(try check.execute("SELECT count(*) FROM scan_batches WHERE NOT rolled_up")[0][0] == "0")
            let text = service.prometheusText()
            let folds = service.stats.rollupFolds.count
            #expect(folds >= 1)
            #expect(text.contains("channelguard_rollup_folds_total \(folds)\n"))
            #expect(text.contains("channelguard_rollup_fold_seconds_count \(folds)\n"))
            #expect(text.contains("channelguard_rollup_fold_cells_total \(service.stats.rollupFoldCells.count)\n"))
            #expect(service.stats.rollupFoldCells.count >= 1)

            // The live feed announced each alert once as raised (the resent frames raised none),
            // each announcement timed; every batch that stored alerts was announced after its
            // commit on the stored channel.
            let withAlerts = Set(
                try check.execute("SELECT id FROM scan_batches WHERE alert_count > 0").compactMap { $0[0] }
            )
            #expect(!withAlerts.isEmpty)
            var live: [String] = []
            var stored: Set<String> = []
            #expect(
                try await IngestHarness.wait(seconds: 10) {
                    for notice in try listener.notifications(timeoutMilliseconds: 50) {
                        if notice.channel == AlertAnnouncer.channel {
                            live += notice.payload.split(separator: "\n").map(String.init)
                        } else {
                            stored.insert(notice.payload)
                        }
                    }
                    return live.count >= 6 && stored.count >= withAlerts.count
                }
            )
            #expect(stored == withAlerts)
            let rules = live.compactMap { line in
                line.split(separator: ",").first { $0.hasPrefix("{\"rule\":") }?.dropFirst(9).dropLast()
            }
            #expect(
                rules.sorted()
                    == [
                        "duplicate", "not_consignee", "out_of_territory", "out_of_territory", "price_below_floor",
                        "unknown_code",
                    ]
            )
            #expect(service.stats.alertsAnnounced.count == 6)
            let announced = service.prometheusText()
            #expect(announced.contains("channelguard_alert_announce_seconds_count 6\n"))
            #expect(announced.contains("channelguard_alerts_announced_total{outcome=\"sent\"} 6\n"))
        }
        #expect(try connection.execute("SELECT sum(event_count) FROM scan_batches")[0][0] == "8")
        let alerts = try connection.execute("SELECT rule, serial, severity FROM alerts ORDER BY serial, rule").map {
            "\($0[0]!) \($0[1]!) \($0[2]!)"
        }
        #expect(
            alerts
                == [
                    "unknown_code SN999 medium",  // never shipped
                    "duplicate SN001 high",  // sold twice
                    "out_of_territory SN002 critical",  // Beijing, over 1,000 km from Shenzhen
                    "price_below_floor SN003 medium",  // 500.00 under the 1,000.00 floor
                    "not_consignee SN004 high",  // received by the agent, shipped to the dealer
                    "out_of_territory NEW1 medium",  // bound by the ship scan, sold in Guangzhou
                ].sorted { ($0.split(separator: " ")[1], $0) < ($1.split(separator: " ")[1], $1) }
        )
        // Every scan of a bound serial counted once in the rollups; the unknown code in none.
        #expect(try connection.execute("SELECT sum(scans) FROM scan_rollups_hourly")[0][0] == "7")
        #expect(
            try connection.execute("SELECT max(last_sequence) FROM gateway_offsets WHERE gateway_id = \(Self.gateway)")[
                0
            ][0]
                == "2"
        )
        // The log replays to exactly the events sent.
        var replayed: [String] = []
        let failures = try ScanLog.replay(connection) { batch, _, gateways in
            #expect(gateways.allSatisfy { $0 == Self.gateway })
            replayed += (0..<batch.count).map(batch.line(at:))
        }
        #expect(failures.isEmpty)
        let sent = [Self.frameOne, Self.frameTwo].map(Self.batch).flatMap { batch in
            (0..<batch.count).map(batch.line(at:))
        }
        #expect(replayed.sorted() == sent.sorted())
        // A range of batch ids replays those batches and no other (loadgen --naive reads only its
        // run's batches this way).
        let stored = try connection.execute("SELECT id FROM scan_batches ORDER BY id").compactMap { Int64($0[0] ?? "") }
        #expect(!stored.isEmpty)
        for id in stored {
            var seen: [Int64] = []
            try ScanLog.replay(connection, ids: id...id) { _, got, _ in seen.append(got) }
            #expect(seen == [id])
        }
        var beyond = 0
        try ScanLog.replay(connection, ids: (stored.last ?? 0) + 1...Int64.max) { _, _, _ in beyond += 1 }
        #expect(beyond == 0)
    }

    @Test func changesInTheDatabaseReachTheRunningPipeline() async throws {
        let connection = try TestDatabase.require().connect()
        let before = Int(try connection.execute("SELECT coalesce(sum(event_count), 0) FROM scan_batches")[0][0] ?? "0")!
        try await withIngest { tcp, _, service in
            let connection = try TestDatabase.require().connect()
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            func latest(_ table: String) throws -> Int64 {
                Int64(try connection.execute("SELECT coalesce(max(seq), 0) FROM \(table)")[0][0] ?? "0") ?? 0
            }
            // Gateway 8 does not exist yet: this connection's frames are checked with the keys
            // it has, and it is refused.
            let gateway8 = BinaryFrameEncoder(gatewayID: 8, secret: Array((0..<16).reversed()))
            let early = try gateway8.encode(
                Self.batch("inspect 110105 2026-11-23T12:00:00Z (01)\(Self.gtin)(21)SN001"),
                sequence: 1
            )
            try socket.send(early)
            #expect(try Self.acknowledgement(socket) == .rejected(1, because: .unknownGateway))
            // A serial bound while the daemon runs, and a temporary grant of Beijing to the dealer.
            try connection.execute(
                """
                INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
                    SELECT '\(Self.gtin)', 'LIVE1', id, now() FROM shipments WHERE code = 'S1';
                INSERT INTO territory_grants (distributor_id, region_code, kind, valid_from, valid_to)
                    SELECT id, '110000', 'temporary', now() - interval '1 day', now() + interval '1 day'
                    FROM distributors WHERE code = 'DEALER';
                INSERT INTO gateways (id, code, name, kind, secret, owner_distributor_id)
                    SELECT 8, 'GW8', 'Gateway 8', 'store_pos', '\\x0f0e0d0c0b0a09080706050403020100', id FROM distributors WHERE code = 'HQ';
                """
            )
            let bindings = try latest("binding_changes")
            let reference = try latest("reference_changes")
            #expect(try await IngestHarness.wait(seconds: 5) { service.bindingsApplied >= bindings })
            #expect(try await IngestHarness.wait(seconds: 5) { service.referenceVersion >= reference })
            // Known now (no unknown_code), inside the granted Beijing (no out_of_territory), from a
            // gateway added a moment ago: the same connection now knows its key.
            let now = Monotonic.wallMilliseconds()
            try socket.send(
                try gateway8.encode(Self.batch("inspect 110105 \(now) (01)\(Self.gtin)(21)LIVE1"), sequence: 1)
            )
            #expect(try Self.acknowledgement(socket) == .durable(through: 1))
            // The consignee of S1 changes: SN020 now belongs to the agent.
            try connection.execute(
                "UPDATE shipments SET to_distributor_id = (SELECT id FROM distributors WHERE code = 'AGENT') WHERE code = 'S1'"
            )
            let moved = try latest("binding_changes")
            #expect(try await IngestHarness.wait(seconds: 5) { service.bindingsApplied >= moved })
            try socket.send(
                try gateway8.encode(
                    Self.batch("receive 440305 \(now) (01)\(Self.gtin)(21)SN020 party=AGENT"),
                    sequence: 2
                )
            )
            #expect(try Self.acknowledgement(socket) == .durable(through: 2))
        }
        // Both scans stored, neither alerted.
        #expect(Int(try connection.execute("SELECT sum(event_count) FROM scan_batches")[0][0] ?? "0")! == before + 2)
        let alerts = try connection.execute("SELECT rule FROM alerts WHERE serial IN ('LIVE1', 'SN020')")
        #expect(alerts.isEmpty, "\(alerts)")
    }

    @Test func datagramsSentTwiceAreStoredOnce() async throws {
        let connection = try TestDatabase.require().connect()
        let before = Int(try connection.execute("SELECT coalesce(sum(event_count), 0) FROM scan_batches")[0][0] ?? "0")!
        try connection.execute(
            """
            INSERT INTO gateways (id, code, name, kind, secret, owner_distributor_id)
                SELECT 9, 'GW9', 'Gateway 9', 'store_pos', '\\x000102030405060708090a0b0c0d0e0f', id FROM distributors WHERE code = 'HQ'
            """
        )
        try await withIngest { _, udp, service in
            let socket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
            // Frames 1–10 of a gateway of its own, each sent twice in a row (one read gathers both
            // copies), and the whole run again.
            let frames = try (1...10).map {
                try IngestOutageTests.frame(gateway: 9, sequence: UInt64($0), base: $0 * 1000)
            }
            for _ in 0..<2 {
                for frame in frames {
                    try socket.send(frame)
                    try socket.send(frame)
                }
            }
            let expected = frames.count * IngestOutageTests.eventsPerFrame
            #expect(try await IngestHarness.wait(seconds: 10) { service.stats.stored.count >= expected })
            #expect(try await IngestHarness.wait(seconds: 10) { service.stats.duplicateFrames.count >= 1 })
            // Every commit is timed: one flush-duration and one batch-wait observation per batch.
            let flushes = service.stats.flushes.count
            let text = service.prometheusText()
            #expect(flushes > 0)
            #expect(text.contains("channelguard_flush_duration_seconds_count \(flushes)\n"))
            #expect(text.contains("channelguard_batch_wait_seconds_bucket{le=\"+Inf\"} \(flushes)\n"))
        }
        let after = Int(try connection.execute("SELECT sum(event_count) FROM scan_batches")[0][0] ?? "0")!
        #expect(after - before == 10 * IngestOutageTests.eventsPerFrame)
    }

    /// One event per datagram from two gateways, in runs of different lengths: a UDP read gathers
    /// several datagrams, and a shard stores consecutive ones of a gateway as one run. Replayed,
    /// every event comes back once, with its own gateway. The port has two sockets, and though
    /// everything comes from one client address (one kernel hash), each socket reads exactly the
    /// datagrams of its gateways (gateway id mod 2).
    @Test func oneEventDatagramsOfTwoGatewaysReplayWithTheirGateways() async throws {
        let connection = try TestDatabase.require().connect()
        try connection.execute(
            """
            INSERT INTO distributors (code, name, tier) VALUES ('UDP-OWNER', 'Gateway owner', 'hq');
            INSERT INTO gateways (id, code, name, kind, secret, owner_distributor_id)
                SELECT g, 'GW' || g, 'Gateway ' || g, 'store_pos', '\\x000102030405060708090a0b0c0d0e0f', id
                FROM distributors, (VALUES (11), (12)) AS v(g) WHERE code = 'UDP-OWNER'
            """
        )
        var sent: [String] = []
        var datagrams: [[UInt8]] = []
        var sequences: [UInt32: UInt64] = [11: 0, 12: 0]
        var generator = SplitMix64(seed: 7)
        var gateway: UInt32 = 11
        while datagrams.count < 300 {
            for _ in 0..<(1 + Int(generator.next() % 9)) {
                sequences[gateway]! += 1
                let eventSequence = 7_000_000 + datagrams.count
                let line =
                    "inspect 440305 2026-11-23T12:00:00Z (01)\(Self.gtin)(21)SN0\(10 + datagrams.count % 80) seq=\(eventSequence)"
                datagrams.append(
                    try BinaryFrameEncoder(gatewayID: gateway, secret: Self.secret).encode(
                        Self.batch(line),
                        sequence: sequences[gateway]!
                    )
                )
                sent.append("\(gateway) \(eventSequence)")
            }
            gateway = gateway == 11 ? 12 : 11
        }
        let storedBefore = Int(
            try connection.execute("SELECT coalesce(sum(event_count), 0) FROM scan_batches")[0][0] ?? "0"
        )!
        let toSend = datagrams
        let perGateway = Dictionary(grouping: sent, by: { $0.prefix(2) }).mapValues(\.count)
        var configuration = IngestHarness.configuration()
        configuration.listeners.udpSockets = 2
        try await IngestHarness.run(url: try TestDatabase.require().url, configuration: configuration) {
            _,
            udp,
            service in
            let socket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
            for datagram in toSend { try socket.send(datagram) }
            #expect(try await IngestHarness.wait(seconds: 10) { service.stats.stored.count >= toSend.count })
            #expect(service.stats.socketDatagrams[0].count == perGateway["12"])
            #expect(service.stats.socketDatagrams[1].count == perGateway["11"])
            #expect(
                service.prometheusText().contains(
                    "channelguard_udp_socket_datagrams_total{socket=\"1\"} \(perGateway["11"]!)\n"
                )
            )
        }
        let storedAfter = Int(try connection.execute("SELECT sum(event_count) FROM scan_batches")[0][0] ?? "0")!
        #expect(storedAfter - storedBefore == datagrams.count)
        var replayed: [String] = []
        let failures = try ScanLog.replay(connection) { batch, _, gateways in
            for event in 0..<batch.count where batch.sequences[event] >= 7_000_000 {
                replayed.append("\(gateways[event]) \(batch.sequences[event])")
            }
        }
        #expect(failures.isEmpty)
        #expect(replayed.sorted() == sent.sorted())
    }

    @Test func hostileTrafficIsRejectedByNameAndChangesNothing() async throws {
        let connection = try TestDatabase.require().connect()
        let before = try connection.execute("SELECT coalesce(sum(event_count), 0) FROM scan_batches")[0][0] ?? "0"
        try await withIngest { tcp, udp, service in
            var generator = SystemRandomNumberGenerator()
            // A tag made with the wrong secret, an unknown gateway: rejected by reason.
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            try socket.send(try Self.frame(Self.frameTwo, sequence: 10, secret: Array(repeating: 7, count: 16)))
            #expect(try Self.acknowledgement(socket) == .rejected(10, because: .badSignature))
            try socket.send(try Self.frame(Self.frameTwo, sequence: 11, gateway: 99))
            #expect(try Self.acknowledgement(socket) == .rejected(11, because: .unknownGateway))
            // A frame damaged in flight fails its tag.
            var damaged = try Self.frame(Self.frameTwo, sequence: 12)
            damaged[40] ^= 0x20
            try socket.send(damaged)
            #expect(try Self.acknowledgement(socket) == .rejected(12, because: .badSignature))

            // Random bytes over TCP (binary mode: a first byte of 0) and over UDP.
            for round in 0..<20 {
                let garbage = (0..<Int.random(in: 1...3000, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
                let hostile = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp, receiveTimeoutSeconds: 1)
                try hostile.send((round % 2 == 0 ? [0] : []) + garbage)
                let udpSocket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
                try udpSocket.send((round % 2 == 0 ? [0] : []) + garbage)
            }
            // Bad protocol lines beside a good one over UDP: the good one is stored.
            let udpSocket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
            try udpSocket.send(
                Array(
                    "sell 440305 2026-11-25T12:00:00Z (01)06901234567893(21)BAD\nsell 999999 x y\nsell 440305 2026-11-25T12:00:00Z (01)\(Self.gtin)(21)SN050\n"
                        .utf8
                )
            )
            // The daemon is still up and storing: a good frame is acknowledged.
            let good = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            try good.send(try Self.frame("inspect 440305 2026-11-25T12:00:00Z (01)\(Self.gtin)(21)SN060", sequence: 13))
            #expect(try Self.acknowledgement(good) == .durable(through: 13))
            let deadline = ContinuousClock.now + .seconds(10)
            while service.stats.stored.count < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let rejected = service.stats.rejected.snapshot
            #expect(rejected["bad_signature", default: 0] >= 2)
            #expect(rejected["unknown_gateway", default: 0] == 1)
            #expect(rejected["bad_check_digit", default: 0] >= 1)
            #expect(service.stats.stored.count == 2)
        }
        let after = try connection.execute("SELECT coalesce(sum(event_count), 0) FROM scan_batches")[0][0] ?? "0"
        #expect(Int(after)! - Int(before)! == 2)
    }
}

import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL stopped and started again while gateways send: TCP acknowledgements pause, UDP lands
/// in the spool, and afterwards every event is stored exactly once. Uses a cluster of its own,
/// since the suite stops it.
@Suite(.serialized) struct IngestOutageTests {
    static let framesOverTCP = 300
    static let eventsPerFrame = 20
    static let datagramsDuringOutage = 40

    /// Frame `n` of a gateway: events with unique event sequences (`seq=`), so a duplicate shows.
    static func frame(gateway: UInt32, sequence: UInt64, base: Int) throws -> [UInt8] {
        let lines = (0..<eventsPerFrame).map { index in
            "inspect 440305 2026-11-23T12:00:00Z (01)\(IngestEndToEndTests.gtin)(21)SN0\(10 + index) seq=\(base + index)"
        }
        var batch = ScanBatch()
        Array(lines.joined(separator: "\n").utf8).withUnsafeBufferPointer {
            LineProtocolDecoder().decode($0, into: &batch)
        }
        return try BinaryFrameEncoder(gatewayID: gateway, secret: IngestEndToEndTests.secret).encode(
            batch,
            sequence: sequence
        )
    }

    @Test func databaseRestartUnderLoadLosesNothingAndCountsNothingTwice() async throws {
        let directory = TestCluster.root.appendingPathComponent("outage-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        let spool = TestCluster.root.appendingPathComponent("outage-spool-\(getpid())")
        try? FileManager.default.removeItem(at: spool)
        let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: directory, durability: .throwaway))
        let url = try postgres.start().url
        defer {
            try? postgres.stop()
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(at: spool)
        }
        let setup = try LibPQConnection(url: url)
        _ = try Migrator().migrate(setup)
        try setup.execute(IngestEndToEndTests.setup)
        try setup.execute(
            """
            INSERT INTO gateways (id, code, name, kind, secret, owner_distributor_id)
                SELECT 6, 'GW6', 'Gateway 6', 'store_pos', '\\x000102030405060708090a0b0c0d0e0f', id FROM distributors WHERE code = 'HQ'
            """
        )

        let acked = Atomic<Int>(0)
        var configuration = IngestHarness.configuration(spool: spool.path)
        // A small memory bound, so that the outage reaches the spool within the test.
        configuration.pipeline.maximumQueuedJobs = 4
        try await IngestHarness.run(url: url, configuration: configuration) { tcp, udp, service in
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp, receiveTimeoutSeconds: 60)
            let reader = Thread {
                while let bytes = socket.receive(exactly: FrameAcknowledgement.encodedBytes),
                    let ack = bytes.withUnsafeBufferPointer({ FrameAcknowledgement(decoding: $0) }),
                    ack.kind == .durable
                {
                    acked.store(Int(ack.sequence), ordering: .relaxed)
                    if ack.sequence == UInt64(Self.framesOverTCP) { return }
                }
            }
            reader.start()
            let sender = Task.detached {
                for sequence in 1...Self.framesOverTCP {
                    try socket.send(try Self.frame(gateway: 5, sequence: UInt64(sequence), base: sequence * 1000))
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            // Stop the database once part of the stream is acknowledged.
            #expect(try await IngestHarness.wait { acked.load(ordering: .relaxed) >= 60 })
            try postgres.stop()
            let ackedAtStop = acked.load(ordering: .relaxed)
            // UDP keeps arriving while the database is down.
            let udpSocket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
            for sequence in 1...Self.datagramsDuringOutage {
                try udpSocket.send(
                    try Self.frame(gateway: 6, sequence: UInt64(sequence), base: 1_000_000 + sequence * 1000)
                )
                try await Task.sleep(for: .milliseconds(10))
            }
            try await Task.sleep(for: .milliseconds(500))
            // Nothing is acknowledged while nothing can commit (one commit may have been in flight).
            #expect(acked.load(ordering: .relaxed) <= ackedAtStop + 5)
            #expect(try await IngestHarness.wait(seconds: 10) { service.spoolBytes > 0 })
            _ = try postgres.start()
            try await sender.value
            #expect(try await IngestHarness.wait(seconds: 60) { acked.load(ordering: .relaxed) == Self.framesOverTCP })
            let expected = (Self.framesOverTCP + Self.datagramsDuringOutage) * Self.eventsPerFrame
            #expect(try await IngestHarness.wait(seconds: 60) { service.stats.stored.count >= expected })
            #expect(service.spoolBytes == 0)
        }

        // Every event once: the stored event sequences are exactly the ones sent.
        let check = try LibPQConnection(url: url)
        var sequences: [UInt64] = []
        let failures = try ScanLog.replay(check) { batch, _, _ in sequences += batch.sequences }
        #expect(failures.isEmpty)
        var sent: [UInt64] = []
        for frame in 1...Self.framesOverTCP {
            for index in 0..<Self.eventsPerFrame { sent.append(UInt64(frame * 1000 + index)) }
        }
        for frame in 1...Self.datagramsDuringOutage {
            for index in 0..<Self.eventsPerFrame { sent.append(UInt64(1_000_000 + frame * 1000 + index)) }
        }
        let stored = Set(sequences)
        #expect(sequences.count == sent.count, "stored \(sequences.count) events for \(sent.count) sent")
        #expect(stored.count == sequences.count, "\(sequences.count - stored.count) events stored twice")
        let missing = Set(sent).subtracting(stored)
        #expect(missing.isEmpty, "\(missing.count) events lost, e.g. \(missing.sorted().prefix(5))")
        #expect(
            try check.execute("SELECT max(last_sequence) FROM gateway_offsets WHERE gateway_id = 5")[0][0]
                == "\(Self.framesOverTCP)"
        )
    }
}

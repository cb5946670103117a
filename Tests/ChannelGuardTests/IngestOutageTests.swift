import CChannelGuardSupport
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

    /// A frame whose spool record cannot be read back was taken and then lost: the shard forgets
    /// it and closes the gateway's connection, and the gateway's resend is stored (before, the
    /// resend was recognised as a duplicate and acknowledged: acknowledged and lost).
    @Test func aFrameLostInTheSpoolIsStoredFromItsResend() async throws {
        let directory = TestCluster.root.appendingPathComponent("lost-\(getpid())")
        let spool = TestCluster.root.appendingPathComponent("lost-spool-\(getpid())")
        for path in [directory, spool] { try? FileManager.default.removeItem(at: path) }
        let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: directory, durability: .throwaway))
        let url = try postgres.start().url
        defer {
            try? postgres.stop()
            for path in [directory, spool] { try? FileManager.default.removeItem(at: path) }
        }
        let setup = try LibPQConnection(url: url)
        _ = try Migrator().migrate(setup)
        try setup.execute(IngestEndToEndTests.setup)

        var configuration = IngestHarness.configuration(spool: spool.path)
        configuration.pipeline.shards = 1
        // Every job through the spool, so that each frame is a record of its own.
        configuration.pipeline.maximumQueuedJobs = 0
        try await IngestHarness.run(url: url, configuration: configuration) { tcp, _, service in
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            try socket.send(try Self.frame(gateway: 5, sequence: 1, base: 1000))
            #expect(try IngestEndToEndTests.acknowledgement(socket) == .durable(through: 1))
            try postgres.stop()
            let file = spool.appendingPathComponent("shard-0.spool").path
            // (With the writer this far behind the connection stops reading: two frames reach it.)
            for sequence in 2...3 {
                try socket.send(try Self.frame(gateway: 5, sequence: UInt64(sequence), base: sequence * 1000))
                // One job, one record each; the writer holds frame 2's record in hand while it retries.
                let records = sequence - 1
                #expect(try await IngestHarness.wait(seconds: 10) { Self.spoolRecords(file).count >= records })
            }
            // Frame 3's record: its payload length made impossible, its checksum kept valid.
            let third = Self.spoolRecords(file)[1]
            try Self.corrupt(file, record: third)
            _ = try postgres.start()
            #expect(try await IngestHarness.wait(seconds: 30) { service.stats.framesLost.count == 1 })
            // The connection was closed: the gateway reconnects, resends all it holds, and goes on.
            let again = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            for sequence in 2...4 {
                try again.send(try Self.frame(gateway: 5, sequence: UInt64(sequence), base: sequence * 1000))
            }
            var last = try IngestEndToEndTests.acknowledgement(again)
            while last.sequence < 4 { last = try IngestEndToEndTests.acknowledgement(again) }
            #expect(last == .durable(through: 4))
        }
        var sequences: [UInt64] = []
        _ = try ScanLog.replay(try LibPQConnection(url: url)) { batch, _, _ in sequences += batch.sequences }
        #expect(sequences.count == 4 * Self.eventsPerFrame)
        #expect(Set(sequences.map { $0 / 1000 }) == [1, 2, 3, 4])
        #expect(Set(sequences).count == sequences.count)
    }

    /// Where each record of a spool file starts, and its body length.
    static func spoolRecords(_ path: String) -> [(start: Int, length: Int)] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let bytes = [UInt8](data)
        var records: [(start: Int, length: Int)] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            let length =
                Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
                | Int(bytes[offset + 3]) << 24
            guard offset + 8 + length <= bytes.count else { break }
            records.append((offset, length))
            offset += 8 + length
        }
        return records
    }

    /// Makes a record's body unreadable as a batch (the payload's length past its end) and writes the
    /// checksum of the damaged body, so that the spool hands it over.
    static func corrupt(_ path: String, record: (start: Int, length: Int)) throws {
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        let body = record.start + 8
        // Five 8-byte fields, then the payload's u32 length.
        for index in 40..<44 { bytes[body + index] = 0xFF }
        let crc = bytes[body..<(body + record.length)].withUnsafeBytes { cg_crc32c(0, $0.baseAddress, $0.count) }
        for index in 0..<4 { bytes[record.start + 4 + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        // In place: the writer keeps the file open.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(record.start))
        try handle.write(contentsOf: bytes[record.start..<(body + record.length)])
        try handle.close()
    }
}

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

/// `channelguard serve` killed with SIGKILL while a gateway streams, then started again; the
/// gateway resends every frame not acknowledged. Nothing acknowledged is lost and nothing is
/// stored twice.
@Suite(.database, .serialized) struct IngestCrashTests {
    static let frames = 400

    func startServe(_ url: DatabaseURL, _ directory: URL) async throws -> (ChildProcess, Int) {
        let serve = try ChildProcess(
            try ChildProcess.channelguardExecutable(),
            [
                "serve", "--database-url", url.urlString, "--http-port", "0", "--tcp-port", "0", "--udp-port=-1",
                "--shards", "2", "--flush-ms", "10", "--snapshot",
                directory.appendingPathComponent("index.snapshot").path,
                "--spool", directory.appendingPathComponent("spool").path, "--log-level", "error",
            ]
        )
        guard try await serve.waitForOutput(containing: "Ingest    tcp://", timeout: .seconds(60)),
            let line = serve.output.split(separator: "\n").first(where: { $0.contains("Ingest    tcp://") }),
            let port = line.split(separator: " ").first(where: { $0.hasPrefix("tcp://") })?.split(separator: ":").last
                .flatMap({ Int($0) })
        else {
            serve.signal(SIGKILL)
            throw SendError("serve did not start:\n\(serve.output)")
        }
        return (serve, port)
    }

    /// Sends frames `range` on a new connection and returns the highest sequence acknowledged by
    /// the end (bounded wait) or the connection's end. With `kill`, it sends the first half of the
    /// range, waits until a third is acknowledged — so frames are in flight, some stored and not
    /// yet acknowledged — and calls `kill` there.
    static func stream(_ port: Int, _ range: ClosedRange<Int>, kill: (() -> Void)? = nil) throws -> Int {
        let socket = try ClientSocket(host: "127.0.0.1", port: port, transport: .tcp, receiveTimeoutSeconds: 20)
        let acked = Atomic<Int>(range.lowerBound - 1)
        let closed = Atomic<Bool>(false)
        let reader = Thread {
            defer { closed.store(true, ordering: .relaxed) }
            while let bytes = socket.receive(exactly: FrameAcknowledgement.encodedBytes),
                let ack = bytes.withUnsafeBufferPointer({ FrameAcknowledgement(decoding: $0) }), ack.kind == .durable
            {
                acked.store(Int(ack.sequence), ordering: .relaxed)
                if ack.sequence == UInt64(range.upperBound) { return }
            }
        }
        reader.start()
        let half = range.lowerBound + range.count / 2
        for sequence in range {
            guard
                (try? socket.send(
                    try IngestOutageTests.frame(gateway: 5, sequence: UInt64(sequence), base: sequence * 1000)
                )) != nil
            else { break }
            if let kill, sequence == half {
                let deadline = ContinuousClock.now + .seconds(30)
                while acked.load(ordering: .relaxed) < range.lowerBound + range.count / 3,
                    ContinuousClock.now < deadline
                {
                    usleep(1_000)
                }
                kill()
                while !closed.load(ordering: .relaxed) { usleep(1_000) }
                return acked.load(ordering: .relaxed)
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while acked.load(ordering: .relaxed) < range.upperBound, ContinuousClock.now < deadline,
            !closed.load(ordering: .relaxed)
        {
            usleep(5_000)
        }
        return acked.load(ordering: .relaxed)
    }

    @Test func killedAndRestartedWhileTheGatewayResendsLosesNothingAndCountsNothingTwice() async throws {
        let database = try TestDatabase.require()
        let connection = try database.connect()
        try connection.execute(IngestEndToEndTests.setup)
        let directory = TestCluster.root.appendingPathComponent("crash-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let (first, port) = try await startServe(database.url, directory)
        // Half the frames sent (1 through frames / 2 + 1), at least a third acknowledged, then the
        // daemon dies, usually with frames in flight (on a busy machine all it was sent may be
        // acknowledged before the kill lands; the resend below then starts where the acks stop).
        let ackedBeforeKill = try Self.stream(port, 1...Self.frames) { first.signal(SIGKILL) }
        _ = try await first.waitForExit(timeout: .seconds(10))
        #expect(ackedBeforeKill >= Self.frames / 3 && ackedBeforeKill <= Self.frames / 2 + 1)

        // The gateway resends everything not acknowledged to the restarted daemon.
        let (second, newPort) = try await startServe(database.url, directory)
        let acked = try Self.stream(newPort, (ackedBeforeKill + 1)...Self.frames)
        #expect(acked == Self.frames)
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)

        var sequences: [UInt64] = []
        let failures = try ScanLog.replay(connection) { batch, _, _ in sequences += batch.sequences }
        #expect(failures.isEmpty)
        let stored = Set(sequences)
        let sent = Set(
            (1...Self.frames).flatMap { frame in
                (0..<IngestOutageTests.eventsPerFrame).map { UInt64(frame * 1000 + $0) }
            }
        )
        #expect(sequences.count == sent.count, "stored \(sequences.count) events for \(sent.count) sent")
        #expect(stored.count == sequences.count, "\(sequences.count - stored.count) events stored twice")
        #expect(sent.subtracting(stored).isEmpty, "\(sent.subtracting(stored).count) events lost")
    }

    /// Sends one frame of gateway 5 and waits for its acknowledgement.
    static func send(_ lines: [String], sequence: UInt64, port: Int) throws {
        let socket = try ClientSocket(host: "127.0.0.1", port: port, transport: .tcp, receiveTimeoutSeconds: 20)
        try socket.send(try IngestEndToEndTests.frame(lines.joined(separator: "\n"), sequence: sequence))
        #expect(try IngestEndToEndTests.acknowledgement(socket) == .durable(through: sequence))
    }

    /// The per-unit state the rules need survives SIGKILL: a unit sold before the kill and sold
    /// again after it is a duplicate, whether the restart finds its snapshot current (the event log
    /// after the snapshot's positions is replayed) or stale (bindings changed meanwhile: the index
    /// is rebuilt from the tables, the snapshot's scan state carried into it, then the log replayed).
    @Test func aUnitSoldBeforeAKillIsADuplicateWhenSoldAgain() async throws {
        let database = try TestDatabase.require()
        let connection = try database.connect()
        if try connection.execute("SELECT count(*) FROM distributors")[0][0] == "0" {
            try connection.execute(IngestEndToEndTests.setup)
        }
        let directory = TestCluster.root.appendingPathComponent("state-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let gtin = IngestEndToEndTests.gtin
        func line(_ step: String, _ serial: String, day: Int) -> String {
            "\(step) 440305 2026-11-\(day)T12:00:00Z (01)\(gtin)(21)\(serial)\(step == "sell" ? " price=1999.00" : "")"
        }
        // Far above the other test's sequences of the same gateway.
        let base: UInt64 = 1_000_000

        let (first, port) = try await startServe(database.url, directory)
        try Self.send(
            [line("sell", "SN050", day: 20), line("activate", "SN051", day: 20)],
            sequence: base + 1,
            port: port
        )
        first.signal(SIGKILL)
        _ = try await first.waitForExit(timeout: .seconds(10))

        let (second, secondPort) = try await startServe(database.url, directory)
        try Self.send([line("sell", "SN050", day: 21)], sequence: base + 2, port: secondPort)
        second.signal(SIGKILL)
        _ = try await second.waitForExit(timeout: .seconds(10))

        // A binding added while the daemon is down: the snapshot is stale at the next start.
        try connection.execute(
            """
            INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
                SELECT '\(gtin)', 'LATE1', id, now() FROM shipments WHERE code = 'S1'
            """
        )
        let (third, thirdPort) = try await startServe(database.url, directory)
        try Self.send(
            [line("activate", "SN051", day: 22), line("sell", "SN050", day: 22), line("inspect", "LATE1", day: 22)],
            sequence: base + 3,
            port: thirdPort
        )
        third.signal(SIGTERM)
        #expect(try await third.waitForExit(timeout: .seconds(30)) == 0)

        let alerts = try connection.execute(
            "SELECT rule || ' ' || serial FROM alerts WHERE serial IN ('SN050', 'SN051', 'LATE1') ORDER BY scanned_at, serial"
        ).compactMap { $0[0] }
        #expect(alerts == ["duplicate SN050", "duplicate SN050", "duplicate SN051"])
    }
}

import AsyncHTTPClient
import ChannelGuardHTTP
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Testing

@testable import ChannelGuardHTTP

/// The live alert feed: every stored alert on the SSE stream and the WebSocket, in id order, and
/// a reconnect with Last-Event-ID that loses nothing and repeats nothing.
@Suite(.serialized) struct AlertFeedTests {
    static func diverted(_ range: ClosedRange<Int>, second: Int = 0) -> [String] {
        range.map { index in
            let serial = "SZ" + String(repeating: "0", count: 3 - String(index).count) + String(index)
            let time =
                "2026-11-20T02:\(String(format: "%02d", (second + index) / 60 % 60)):\(String(format: "%02d", (second + index) % 60))Z"
            return APIFixture.inspect(serial, in: "110105", at: time)
        }
    }

    static func storedIDs(_ connection: LibPQConnection, after: Int64 = 0) throws -> [Int64] {
        try connection.execute("SELECT id FROM alerts WHERE id > $1::int8 ORDER BY id", ["\(after)"]).compactMap {
            $0[0].flatMap { Int64($0) }
        }
    }

    @Test(.database, .timeLimit(.minutes(3))) func streamDeliversEveryAlertInOrderAndResumesWithoutGaps() async throws {
        let setup = try TestDatabase.require().connect()
        try setup.execute(APIFixture.setup)
        let admin = try APIFixture.adminToken(setup)
        try await APIHarness.run { api, ports, connection in
            var stream: SSEClient? = try await SSEClient.open(port: ports.http, path: "/v1/alerts/stream", token: admin)
            #expect(stream?.status == 200)
            try APIHarness.send(Self.diverted(1...40), udp: ports.udp)
            let first = try await stream!.alerts(40)
            try #require(first.count == 40, "the stream delivered \(first.count) of 40 alerts")
            let firstIDs = first.compactMap { $0.id.flatMap { Int64($0) } }
            #expect(firstIDs == firstIDs.sorted() && Set(firstIDs).count == 40)
            #expect(firstIDs == (try Self.storedIDs(connection)))
            for event in first {
                let alert = try JSONValue.parse(event.data)
                #expect(alert["id"]?.int64.map { "\($0)" } == event.id)
                #expect(
                    alert["rule"]?.string == "out_of_territory" && alert["distributor"]?["code"]?.string == "DEALER-SZ"
                )
                let schema = try #require(OpenAPIValidator.shared.resolve("#/components/schemas/Alert"))
                #expect(OpenAPIValidator.shared.validate(alert, schema, at: "$").isEmpty)
            }

            // Disconnected while 25 more are stored; the reconnect names the last id it saw.
            stream = nil
            try APIHarness.send(Self.diverted(41...65, second: 100), udp: ports.udp)
            try await APIHarness.waitForAlerts(65, connection)
            let resumed = try await SSEClient.open(
                port: ports.http,
                path: "/v1/alerts/stream",
                token: admin,
                lastEventID: firstIDs.last!
            )
            let second = try await resumed.alerts(25)
            let secondIDs = second.compactMap { $0.id.flatMap { Int64($0) } }
            #expect(secondIDs == (try Self.storedIDs(connection, after: firstIDs.last!)))
            #expect(firstIDs + secondIDs == (try Self.storedIDs(connection)))

            // Live again after the replay: a new alert follows on the same connection.
            try APIHarness.send(Self.diverted(66...66, second: 200), udp: ports.udp)
            let live = try await resumed.alerts(1)
            #expect(live.first?.id.flatMap { Int64($0) } == (try Self.storedIDs(connection)).last)

            // A malformed Last-Event-ID is refused.
            let bad = try await api.call(.GET, "/v1/alerts/stream", token: admin, headers: [("Last-Event-ID", "abc")])
            #expect(bad.status == 400 && bad.errorCode == "invalid_parameter")
        }
    }

    @Test(.database, .timeLimit(.minutes(3))) func webSocketDeliversFilteredAlertsAndResumes() async throws {
        let setup = try TestDatabase.require().connect()
        try setup.execute(APIFixture.setup)
        let admin = try APIFixture.adminToken(setup)
        try await APIHarness.run { api, ports, connection in
            // Not an upgrade: 426 with a JSON error.
            let plain = try await api.get("/v1/alerts/ws", token: admin)
            #expect(plain.status == 426 && plain.errorCode == "upgrade_required")

            let url = "ws://127.0.0.1:\(ports.http)/v1/alerts/ws?access_token=\(admin)&rule=unknown_code"
            let received = Received()
            let logger = Logger(label: "ws-test")
            let client = Task {
                try await WebSocketClient.connect(url: url, logger: logger) { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message, received.add(text) >= 5 { return }
                    }
                }
            }
            // Once the socket is subscribed, alerts the filter excludes are mixed in.
            try await APIHarness.waitForSubscribers(1, api: api)
            var lines = Self.diverted(1...5)
            for index in 1...5 {
                lines.append(
                    "inspect 440305 2026-11-20T03:00:0\(index)Z (01)\(APIFixture.gtin)(21)UNKNOWN\(index)"
                )
            }
            try APIHarness.send(lines, udp: ports.udp)
            _ = try await client.value
            let alerts = try received.all.map(JSONValue.parse)
            #expect(alerts.count == 5 && alerts.allSatisfy { $0["rule"]?.string == "unknown_code" })
            let ids = alerts.compactMap { $0["id"]?.int64 }
            #expect(ids == ids.sorted())
            let stored = try connection.execute("SELECT id FROM alerts WHERE rule = 'unknown_code' ORDER BY id")
                .compactMap {
                    $0[0].flatMap { Int64($0) }
                }
            #expect(ids == stored)

            // Resume after the second: the three after it, from the database.
            let again = Received()
            let resumeURL = url + "&last_event_id=\(ids[1])"
            try await WebSocketClient.connect(url: resumeURL, logger: logger) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message, again.add(text) >= 3 { return }
                }
            }
            #expect(try again.all.compactMap { try JSONValue.parse($0)["id"]?.int64 } == Array(ids[2...]))
        }
    }

    /// A flush of this process tells the hub at once (``AlertHub/alertsStored()``): the hub reads
    /// the new alert without waiting for a notification or its catch-up interval.
    @Test(.database, .timeLimit(.minutes(1))) func aCommitInThisProcessReachesTheFeedWithoutANotification() async throws
    {
        let database = try TestDatabase.require()
        let setup = try database.connect()
        let client = PostgresClient(configuration: AlertHub.clientConfiguration(for: database.url))
        // No NOTIFY is sent below, and the catch-up interval outlasts the test.
        let hub = AlertHub(
            client: client,
            configuration: .init(catchUpInterval: .seconds(3600)),
            logger: Logger(label: "hub-test")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            group.addTask { try await hub.run() }
            let principal = Principal(accountID: 1, username: "a", role: .admin, distributorID: nil)
            let subscription = await hub.subscribe(filter: AlertFilter(), principal: principal)
            let received = ReceivedIDs()
            let reader = Task {
                for await event in subscription.events where event.id > 0 {
                    received.ids.withLock { $0.append(event.id) }
                }
            }
            func store() throws -> Int64 {
                let inserted = try setup.execute(
                    """
                    INSERT INTO alerts (rule, severity, scanned_at, step, gtin, scan_region)
                    VALUES ('unknown_code', 'medium', now(), 'sell', '06901234567892', '110105') RETURNING id
                    """
                )
                return try #require(inserted.first?.first.flatMap { $0.flatMap { Int64($0) } })
            }
            func waitFor(_ count: Int) async throws {
                let deadline = ContinuousClock.now + .seconds(10)
                while received.ids.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            // The first one is announced as other nodes announce theirs: once it arrives, the
            // hub listens and its start-up read is behind it.
            let announced = try store()
            try setup.execute("NOTIFY channelguard_alerts")
            try await waitFor(1)
            #expect(received.ids.withLock { $0 } == [announced])
            try await Task.sleep(for: .milliseconds(300))

            // Stored but not announced: the feed does not know yet, until this process says so.
            let quiet = try store()
            try await Task.sleep(for: .milliseconds(500))
            #expect(received.ids.withLock { $0 } == [announced])
            hub.alertsStored()
            try await waitFor(2)
            #expect(received.ids.withLock { $0 } == [announced, quiet])
            // The hub's connections keep one generic plan for their query (planned once).
            for try await mode in try await client.query("SHOW plan_cache_mode").decode(String.self) {
                #expect(mode == "force_generic_plan")
            }
            reader.cancel()
            group.cancelAll()
        }
    }

    @Test func aSlowSubscriberIsDroppedWithoutHoldingUpTheFeed() async throws {
        let client = PostgresClient(
            configuration: .init(host: "127.0.0.1", username: "nobody", password: nil, database: nil, tls: .disable)
        )
        let hub = AlertHub(client: client, configuration: .init(bufferLimit: 5), logger: Logger(label: "hub-test"))
        func event(_ id: Int64) -> AlertHub.Event {
            .init(
                id: id,
                rule: "out_of_territory",
                severity: "high",
                region: "110105",
                distributorPath: [1, 2],
                incident: nil,
                body: "{\"id\":\(id)}"
            )
        }
        hub.publish([event(1)])
        let principal = Principal(accountID: 1, username: "a", role: .admin, distributorID: nil)
        let slow = await hub.subscribe(filter: AlertFilter(), principal: principal)
        let prompt = await hub.subscribe(filter: AlertFilter(), principal: principal)
        #expect(slow.startID == 1 && hub.subscriberCount == 2)
        let reader = Task {
            var ids: [Int64] = []
            for await event in prompt.events {
                ids.append(event.id)
                if ids.count == 20 { break }
            }
            return ids
        }
        for id in Int64(2)...21 {
            hub.publish([event(id)])
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(await reader.value == Array(2...21))
        // The slow one kept what fitted its buffer, then was dropped; it can resume from there.
        var kept: [Int64] = []
        for await event in slow.events { kept.append(event.id) }
        #expect(kept == [2, 3, 4, 5, 6] && slow.wasDropped)
        #expect(hub.droppedSubscribers.load(ordering: .relaxed) == 1)
        hub.unsubscribe(prompt)
        #expect(hub.subscriberCount == 0)
    }
}

/// Messages a WebSocket test received.
final class Received: Sendable {
    private let messages = Mutex<[String]>([])

    func add(_ message: String) -> Int {
        messages.withLock {
            $0.append(message)
            return $0.count
        }
    }
    var count: Int { messages.withLock { $0.count } }
    var all: [String] { messages.withLock { $0 } }
}

/// Alert ids a test's reader task has seen.
private final class ReceivedIDs: Sendable {
    let ids = Mutex<[Int64]>([])
}

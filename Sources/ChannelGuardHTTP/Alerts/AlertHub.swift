import ChannelGuardStore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The live alert feed of one `serve`: follows the stored alerts (woken by `NOTIFY
/// channelguard_alerts` after each flush that stored some, and every second to catch up) and
/// hands each, in id order, to the subscribers whose filter it passes.
///
/// Stored alerts have ids in commit order (migration 7), so the feed never skips one, and a
/// subscriber that resumes after id n (`Last-Event-ID`) reads the rest from the database up to
/// where its subscription began. A subscriber holds at most ``Configuration/bufferLimit`` unsent
/// alerts: a slower one is dropped (it can resume, losing nothing); ingest never waits for it.
public final class AlertHub: Service, Sendable {
    public struct Configuration: Sendable {
        /// Alerts a subscriber may have waiting before it is dropped.
        public var bufferLimit: Int
        /// How often the hub looks for stored alerts without a notification.
        public var catchUpInterval: Duration

        public init(bufferLimit: Int = 10_000, catchUpInterval: Duration = .seconds(1)) {
            self.bufferLimit = bufferLimit
            self.catchUpInterval = catchUpInterval
        }
    }

    /// One stored alert, as published.
    public struct Event: Sendable {
        public var id: Int64
        public var rule: String
        public var severity: String
        public var region: String
        public var distributorPath: [Int64]?
        public var incident: Int64?
        /// The alert's JSON (the `api_alerts` view).
        public var body: String
    }

    /// What a subscriber reads: alerts with ids above ``startID``; the stream ends when the hub
    /// stops or drops the subscriber (``wasDropped``).
    public struct Subscription: Sendable {
        public let events: AsyncStream<Event>
        /// The last id published before the subscription began.
        public let startID: Int64
        let id: Int
        let dropped: DropFlag

        public var wasDropped: Bool { dropped.value.load(ordering: .relaxed) }
    }

    struct Subscriber: Sendable {
        var filter: AlertFilter
        var principal: Principal
        var continuation: AsyncStream<Event>.Continuation
        var dropped: DropFlag
    }

    struct State: Sendable {
        var lastID: Int64 = -1
        var nextSubscriber = 0
        var subscribers: [Int: Subscriber] = [:]
        var stopped = false
        /// Catch-up intervals so far: every 15th sends a heartbeat.
        var ticks = 0
    }

    let client: PostgresClient
    let configuration: Configuration
    let logger: Logger
    private let state = Mutex(State())
    /// Wakes from this process: a flush that stored alerts (``alertsStored()``).
    private let nudges: AsyncStream<Void>
    private let nudge: AsyncStream<Void>.Continuation
    /// Subscribers dropped for being slow, and alerts published.
    public let droppedSubscribers = Atomic<Int>(0)
    public let published = Atomic<Int>(0)

    /// The configuration of the hub's own client for `url`. The hub reads `api_alerts WHERE id > $1`
    /// after every commit that stored alerts; with PostgreSQL's default plan caching that query was
    /// planned each time (1.3 ms of planning for 0.4 ms of execution, a tenth of a core at 200
    /// alerts/s), so its connections keep one generic plan. Three connections at most: one holds `LISTEN`.
    public static func clientConfiguration(for url: DatabaseURL) -> PostgresClient.Configuration {
        var configuration = url.postgresClientConfiguration(settings: [("plan_cache_mode", "force_generic_plan")])
        configuration.options.maximumConnections = 3
        return configuration
    }

    public init(client: PostgresClient, configuration: Configuration = .init(), logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        (nudges, nudge) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the hub that this process just committed alerts, so it reads them at once instead of
    /// waiting for their `NOTIFY` to come back from the database (a wake-up fewer on the way to
    /// the stream). Alerts committed elsewhere still arrive by `NOTIFY`.
    public func alertsStored() {
        nudge.yield()
    }

    /// Subscribes; until the hub has read its starting point, waits for it.
    public func subscribe(filter: AlertFilter, principal: Principal) async -> Subscription {
        while state.withLock({ $0.lastID < 0 && !$0.stopped }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let (stream, continuation) = AsyncStream<Event>.makeStream(
            bufferingPolicy: .bufferingOldest(configuration.bufferLimit)
        )
        let dropped = DropFlag()
        let (id, start, stopped) = state.withLock { state -> (Int, Int64, Bool) in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            if !state.stopped {
                state.subscribers[id] = Subscriber(
                    filter: filter,
                    principal: principal,
                    continuation: continuation,
                    dropped: dropped
                )
            }
            return (id, state.lastID, state.stopped)
        }
        if stopped { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return Subscription(events: stream, startID: max(start, 0), id: id, dropped: dropped)
    }

    /// Ends a subscription (its reader left).
    public func unsubscribe(_ subscription: Subscription) {
        let removed = state.withLock { $0.subscribers.removeValue(forKey: subscription.id) }
        removed?.continuation.finish()
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Counts catch-up intervals; every 15th sends a heartbeat.
    private func tick() {
        let beat = state.withLock { state in
            state.ticks += 1
            return state.ticks % 15 == 0
        }
        if beat { heartbeat() }
    }

    /// Sends every subscriber a heartbeat (an event with id 0), so idle streams stay open through
    /// proxies and a reader that left is noticed.
    func heartbeat() {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        let beat = Event(id: 0, rule: "", severity: "", region: "", distributorPath: nil, incident: nil, body: "")
        for subscriber in subscribers { subscriber.continuation.yield(beat) }
    }

    public func run() async throws {
        let start = try await newestID()
        state.withLock { $0.lastID = start }
        await client.runOnWakeups(
            "channelguard_alerts",
            every: configuration.catchUpInterval,
            nudges: nudges,
            logger: logger,
            tick: { [self] in tick() },
            { [self] in
                do {
                    try await catchUp()
                } catch {
                    logger.warning(
                        "alert feed: reading new alerts failed",
                        metadata: ["error": "\(String(reflecting: error))"]
                    )
                }
            }
        )
        let subscribers = state.withLock { state -> [Subscriber] in
            state.stopped = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.continuation.finish() }
        nudge.finish()
    }

    private func newestID() async throws -> Int64 {
        var newest: Int64 = 0
        while true {
            do {
                let rows = try await client.query("SELECT coalesce(max(id), 0) FROM alerts", logger: logger)
                for try await value in rows.decode(Int64.self) { newest = value }
                return newest
            } catch {
                if Task.isCancelled { throw error }
                logger.warning("alert feed: the database is not answering; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Publishes every stored alert after the last one published.
    func catchUp() async throws {
        while true {
            let last = state.withLock { $0.lastID }
            var events: [Event] = []
            for try await event in try await client.execute(AlertsAfter(last: last), logger: logger) {
                events.append(event)
            }
            guard !events.isEmpty else { return }
            publish(events)
            if events.count < AlertsAfter.limit { return }
        }
    }

    func publish(_ events: [Event]) {
        var dropped: [AsyncStream<Event>.Continuation] = []
        state.withLock { state in
            for event in events {
                for (key, subscriber) in state.subscribers
                where subscriber.filter.matches(event, scope: subscriber.principal) {
                    if case .dropped = subscriber.continuation.yield(event) {
                        subscriber.dropped.value.store(true, ordering: .relaxed)
                        state.subscribers.removeValue(forKey: key)
                        dropped.append(subscriber.continuation)
                    }
                }
            }
            state.lastID = events.last!.id
        }
        published.add(events.count, ordering: .relaxed)
        for continuation in dropped {
            droppedSubscribers.add(1, ordering: .relaxed)
            continuation.finish()
        }
    }
}

/// A shareable atomic flag: set when the hub drops a subscriber.
final class DropFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// The stored alerts after an id, as the feed publishes them: a prepared statement, so the
/// server plans it once per connection instead of on every wake-up (1–2 ms each, many times a
/// second under load).
struct AlertsAfter: PostgresPreparedStatement {
    static let limit = 2000
    static let sql = """
        SELECT id, rule, severity, scan_region::text, distributor_path, incident_id, body
        FROM api_alerts WHERE id > $1 ORDER BY id LIMIT \(limit)
        """
    typealias Row = AlertHub.Event

    var last: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(last)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> AlertHub.Event {
        let (id, rule, severity, region, path, incident, body) = try row.decode(
            (Int64, String, String, String, [Int64]?, Int64?, String).self
        )
        return AlertHub.Event(
            id: id,
            rule: rule,
            severity: severity,
            region: region,
            distributorPath: path,
            incident: incident,
            body: body
        )
    }
}

import ChannelGuardCodes
import ChannelGuardStore
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Announces alerts the moment a shard raises them, before their batch is durable:
/// `NOTIFY channelguard_alerts_live` with one JSON object per line (payloads under PostgreSQL's
/// 8,000-byte limit). This is the live feed; the alert rows themselves are stored with their batch,
/// and once that has committed the writer hands the batch id here to be announced on
/// `channelguard_alerts` (``stored(batch:)``). An announcement can therefore precede a crash and be
/// repeated when the gateway resends; the stored alerts never are. Announcements that cannot be
/// sent (database down) are dropped and counted.
///
/// Both are sent from this connection, with asynchronous commits, never from a flush's transaction:
/// a transaction that notifies holds a cluster-wide lock until its commit is on disk (notifications
/// enter the queue in commit order), and a flush's fsync then held up every live announcement.
///
/// Counted in ``PipelineStats``: alerts announced and dropped, and per alert the time from being
/// raised to its `NOTIFY` returning (`channelguard_alert_announce_seconds`).
public final class AlertAnnouncer: Sendable {
    public static let channel = "channelguard_alerts_live"
    /// Where committed batches that stored alerts are announced (the payload is the batch id).
    public static let storedChannel = "channelguard_alerts"
    static let payloadLimit = 7_900

    private let url: DatabaseURL
    private let logger: Logger
    private let stats: PipelineStats
    /// Lines waiting, each with when it was raised (``Monotonic``).
    private let queue = Mutex<[(line: String, raised: UInt64)]>([])
    /// Batches committed with alerts, not yet announced on `channelguard_alerts`.
    private let storedBatches = Mutex<[Int64]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let stopped = ThreadCompletion()

    public init(url: DatabaseURL, logger: Logger, stats: PipelineStats) {
        self.url = url
        self.logger = logger
        self.stats = stats
        let thread = Thread { [self] in run() }
        thread.start()
    }

    /// Queues alerts for announcement (from a shard's loop; a short lock, no I/O).
    public func announce(_ alerts: some Sequence<ScanAlert>) {
        let raised = Monotonic.now()
        var lines: [(line: String, raised: UInt64)] = []
        for alert in alerts { lines.append((alert.liveJSON, raised)) }
        guard !lines.isEmpty else { return }
        queue.withLock { $0.append(contentsOf: lines) }
        wake.signal()
    }

    /// Queues the notice that a committed batch stored alerts (from a writer's thread, after the
    /// commit): `NOTIFY channelguard_alerts` with the batch id.
    public func stored(batch: Int64) {
        storedBatches.withLock { $0.append(batch) }
        wake.signal()
    }

    /// Sends what is queued, then stops the thread; returns once it has. Calls after the first
    /// return as soon as the thread has ended.
    public func stop() async {
        requestStop()
        await stopped.wait()
    }

    /// Asks the thread to send what is queued and end, without waiting (for a failed start).
    public func requestStop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        wake.signal()
    }

    private func run() {
        var connection: LibPQConnection?
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(100))
            // Read before taking the queues: whatever was queued before stop() is still sent.
            let last = stopping.load(ordering: .relaxed)
            let waiting = queue.withLock { queue -> [(line: String, raised: UInt64)] in
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            let batches = storedBatches.withLock { batches -> [Int64] in
                defer { batches.removeAll(keepingCapacity: true) }
                return batches
            }
            if !waiting.isEmpty || !batches.isEmpty {
                send(waiting, batches, on: &connection)
            }
            if last { break }
        }
        stopped.finish()
    }

    /// Sends the live lines, then the stored batches' notices (the alerts are announced as raised
    /// before as stored); what cannot be sent is dropped and counted, and the next call reconnects.
    private func send(
        _ waiting: [(line: String, raised: UInt64)],
        _ batches: [Int64],
        on connection: inout LibPQConnection?
    ) {
        var linesSent = waiting.isEmpty
        do {
            if connection == nil {
                let opened = try LibPQConnection(url: url)
                // An announcement is a hint, not data (the alert is stored with its batch): its
                // commit need not wait for the WAL to reach the disk behind the batches.
                try opened.execute("SET synchronous_commit TO off")
                connection = opened
            }
            guard let connection else { return }
            if !waiting.isEmpty {
                for payload in Self.pack(waiting.map(\.line)) {
                    try connection.execute("SELECT pg_notify($1, $2)", [Self.channel, payload])
                }
                let now = Monotonic.now()
                for alert in waiting { stats.alertAnnounce.record(nanoseconds: now &- alert.raised) }
                stats.alertsAnnounced.add(waiting.count)
                linesSent = true
            }
            if !batches.isEmpty {
                try connection.execute(
                    "SELECT pg_notify($1, id::text) FROM unnest($2::bigint[]) AS id",
                    [Self.storedChannel, PostgresArrayLiteral.text(batches.map { String?("\($0)") })]
                )
            }
        } catch {
            connection = nil
            if !linesSent { stats.alertsAnnounceDropped.add(waiting.count) }
            logger.warning(
                "alert announcement failed",
                metadata: [
                    "alerts": "\(linesSent ? 0 : waiting.count)", "batches": "\(batches.count)", "error": "\(error)",
                ]
            )
        }
    }

    /// Lines joined into payloads under the limit.
    static func pack(_ lines: [String]) -> [String] {
        var payloads: [String] = []
        var current = ""
        for line in lines {
            if !current.isEmpty, current.utf8.count + 1 + line.utf8.count > payloadLimit {
                payloads.append(current)
                current = ""
            }
            current += current.isEmpty ? line : "\n" + line
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads
    }
}

extension ScanAlert {
    /// The alert as one line of the live feed.
    public var liveJSON: String {
        var fields = [
            "\"rule\":\"\(rule.rawValue)\"", "\"severity\":\"\(severity.rawValue)\"", "\"step\":\"\(step.rawValue)\"",
            "\"scanned_at\":" + JSONText.quote(ScanTime.format(milliseconds: scannedAt)),
            "\"region\":\"\(scanRegion)\"",
        ]
        switch kind {
        case .item:
            fields.append("\"gtin\":\"\(ScanBatch.padded(key, 14))\"")
            fields.append("\"serial\":" + JSONText.quote(serial))
        case .logisticUnit:
            fields.append("\"sscc\":\"\(ScanBatch.padded(key, 18))\"")
        }
        if let distributor { fields.append("\"distributor_id\":\(distributor)") }
        if let distanceKilometres { fields.append("\"distance_km\":\(Int(distanceKilometres.rounded()))") }
        if gateway != 0 { fields.append("\"gateway_id\":\(gateway)") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

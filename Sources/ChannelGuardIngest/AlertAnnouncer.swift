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
/// 8,000-byte limit). This is the live feed; the alert rows themselves are stored with their batch
/// (and announced again on `channelguard_alerts` with the batch id once committed). An announcement
/// can therefore precede a crash and be repeated when the gateway resends; the stored alerts never
/// are. Announcements that cannot be sent (database down) are dropped and counted.
public final class AlertAnnouncer: Sendable {
    public static let channel = "channelguard_alerts_live"
    static let payloadLimit = 7_900

    private let url: DatabaseURL
    private let logger: Logger
    private let queue = Mutex<[String]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    /// Alerts announced, and dropped because the database could not be reached.
    public let announced = Counter()
    public let dropped = Counter()

    public init(url: DatabaseURL, logger: Logger) {
        self.url = url
        self.logger = logger
        let thread = Thread { [self] in run() }
        thread.start()
    }

    /// Queues alerts for announcement (from a shard's loop; a short lock, no I/O).
    public func announce(_ alerts: some Sequence<ScanAlert>) {
        var lines: [String] = []
        for alert in alerts { lines.append(alert.liveJSON) }
        guard !lines.isEmpty else { return }
        queue.withLock { $0.append(contentsOf: lines) }
        wake.signal()
    }

    public func stop() {
        stopping.store(true, ordering: .relaxed)
        wake.signal()
        stopped.wait()
    }

    private func run() {
        var connection: LibPQConnection?
        while !stopping.load(ordering: .relaxed) {
            _ = wake.wait(timeout: .now() + .milliseconds(100))
            let lines = queue.withLock { queue -> [String] in
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            guard !lines.isEmpty else { continue }
            do {
                if connection == nil {
                    let opened = try LibPQConnection(url: url)
                    // An announcement is a hint, not data (the alert is stored with its batch): its
                    // commit need not wait for the WAL to reach the disk behind the batches.
                    try opened.execute("SET synchronous_commit TO off")
                    connection = opened
                }
                for payload in Self.pack(lines) {
                    try connection!.execute("SELECT pg_notify($1, $2)", [Self.channel, payload])
                }
                announced.add(lines.count)
            } catch {
                connection = nil
                dropped.add(lines.count)
                logger.warning(
                    "live alert announcement failed",
                    metadata: ["alerts": "\(lines.count)", "error": "\(error)"]
                )
            }
        }
        stopped.signal()
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

import ChannelGuardIngest
import ChannelGuardStore
import Foundation
import Synchronization

/// Listens on its own thread to the live alert feed (`channelguard_alerts_live`: alerts as raised)
/// and to `channelguard_alerts` (batch ids, once stored), noting when each serial's alert was
/// announced and when each batch committed (monotonic nanoseconds).
final class AlertWatcher: Sendable {
    let url: DatabaseURL
    private let notices = Mutex<[Int64: UInt64]>([:])
    private let live = Mutex<[String: UInt64]>([:])
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    init(url: DatabaseURL) {
        self.url = url
    }

    func start() throws {
        let connection = try LibPQConnection(url: url)
        try connection.listen("channelguard_alerts")
        try connection.listen(AlertAnnouncer.channel)
        let box = ConnectionBox(connection)
        Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                guard let received = try? box.connection.notifications(timeoutMilliseconds: 50) else { break }
                let now = Monotonic.now()
                for notice in received {
                    if notice.channel == AlertAnnouncer.channel {
                        let keys = notice.payload.split(separator: "\n").compactMap(Self.key)
                        live.withLock { live in for key in keys where live[key] == nil { live[key] = now } }
                    } else if let batch = Int64(notice.payload) {
                        notices.withLock { if $0[batch] == nil { $0[batch] = now } }
                    }
                }
            }
            stopped.store(true, ordering: .relaxed)
        }.start()
    }

    /// Stops listening; returns batch id → when it committed, and `gtin/serial` → when its alert
    /// was first announced live.
    func stop() -> (batches: [Int64: UInt64], live: [String: UInt64]) {
        stopping.store(true, ordering: .relaxed)
        while !stopped.load(ordering: .relaxed) { usleep(10_000) }
        return (notices.withLock { $0 }, live.withLock { $0 })
    }

    /// `gtin/serial` of a live alert line (GTIN as a number, as the load generator keys them).
    static func key(_ line: Substring) -> String? {
        guard let data = String(line).data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let gtin = (object["gtin"] as? String).flatMap({ UInt64($0) }), let serial = object["serial"] as? String
        else { return nil }
        return "\(gtin)/\(serial)"
    }
}

/// Hands a connection to the one thread that uses it.
private final class ConnectionBox: @unchecked Sendable {
    let connection: LibPQConnection
    init(_ connection: LibPQConnection) { self.connection = connection }
}

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

/// CPU time of the whole machine and of this process, from /proc.
struct CPUTimes: Sendable {
    var busy: Double = 0
    var total: Double = 0
    var process: Double = 0

    static func read() -> CPUTimes {
        var times = CPUTimes()
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first
        {
            let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            times.total = fields.reduce(0, +)
            times.busy = times.total - (fields.count > 4 ? fields[3] + fields[4] : 0)
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
            if fields.count > 12 { times.process = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) }
        }
        return times
    }

    /// Machine busy share (0–cores×100 %) and this process's CPU percent of one core.
    func since(_ before: CPUTimes) -> (machinePercent: Double, processSeconds: Double) {
        let total = self.total - before.total
        let busy = self.busy - before.busy
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (total > 0 ? busy / total * 100 : 0, (process - before.process) / ticks)
    }
}

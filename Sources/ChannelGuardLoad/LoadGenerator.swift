import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardStore
import Foundation
import Synchronization

/// A gateway simulator: sends the workload to a running daemon at a rate (or as fast as it can) for
/// a duration, over TCP frames (waiting for acknowledgements), UDP multi-event datagrams, or UDP
/// with one event per datagram; then checks in the database what became durable and which
/// alerts were raised.
public struct LoadGenerator: Sendable {
    public enum Transport: String, Sendable, CaseIterable {
        case tcp, udp, udp1
    }

    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 7700
        public var transport = Transport.tcp
        /// Events per second; `nil` sends as fast as possible.
        public var rate: Int?
        public var seconds = 10.0
        /// Share of events that are diversions.
        public var diversionShare = 0.001
        /// Events per frame (TCP, UDP); UDP1 sends one.
        public var eventsPerFrame = 512
        /// Parallel connections (each its own gateway, so each has its own sequence).
        public var connections = 1
        /// UDP: hand the kernel runs of equal-length datagrams to cut apart (UDP GSO), so that the
        /// generator, on the same machine as the daemon, spends less of it sending. The daemon
        /// still receives one datagram at a time. Falls back by itself where the kernel refuses.
        public var udpSegmentation = true
        /// At a rate, how long a sender that owes nothing sleeps before sending what has come
        /// due (``LoadPacer``): about 1,000 wake-ups a second per connection at 1 ms.
        public var pacingStep = Duration.milliseconds(1)
        /// Frames sent and not yet acknowledged, per TCP connection.
        public var window = 2048
        public var serials = 200_000
        /// After the run, store the same events one row per event and compare.
        public var naive = false
        /// The live alert stream (`http://host:port/v1/alerts/stream`) and a token for it: alert
        /// latency is then also measured as a reader of the stream sees it.
        public var alertStream: (url: String, token: String)?

        public init() {}
    }

    public let options: Options
    public let url: DatabaseURL

    public init(options: Options, url: DatabaseURL) {
        self.options = options
        self.url = url
    }

    /// Runs the load and returns the summary.
    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) throws -> LoadSummary {
        let database = try LibPQConnection(url: url)
        let workload = try LoadWorkload.load(database, serials: options.serials, gateways: options.connections)
        guard !workload.legitimate.isEmpty, !workload.diverted.isEmpty else {
            throw SendError(
                "the database has no bound serials with territories: load the demo network first (channelguard demo-data)"
            )
        }
        guard workload.gateways.count >= options.connections else {
            throw SendError(
                "\(options.connections) connections need as many active gateways; the database has \(workload.gateways.count)"
            )
        }
        let perFrame =
            options.transport == .udp1 ? 1 : min(options.eventsPerFrame, options.transport == .udp ? 128 : 16_384)
        let frames = try LoadFrames(
            workload: workload,
            eventsPerFrame: perFrame,
            frames: 256,
            time: Monotonic.wallMilliseconds(),
            runsOf: options.transport == .tcp ? 1 : LoadConnection.datagramsPerCall
        )
        let startWall = try database.execute("SELECT now()")[0][0] ?? "now()"
        let logBytesBefore = try NaiveStorage.eventLogBytes(database)
        progress(
            "workload: \(workload.legitimate.count) serials, \(workload.diverted.count) for diversions; \(perFrame) events a frame"
        )

        let watcher = AlertWatcher(url: url)
        try watcher.start()
        let streamWatcher = options.alertStream.map { SSEAlertWatcher(url: $0.url, token: $0.token) }
        try streamWatcher?.start()
        let cpuBefore = CPUTimes.read()
        let begin = Monotonic.now()
        let end = begin + UInt64(options.seconds * 1e9)
        let state = LoadState(diversions: workload.diverted, begin: begin, end: end)
        let threads = (0..<options.connections).map { number in
            let gateway = workload.gateways[number]
            let rate = options.rate.map { max(1, $0 / options.connections) }
            return Thread { [options] in
                do {
                    try LoadConnection(
                        options: options,
                        gateway: gateway,
                        frames: frames,
                        state: state,
                        rate: rate,
                        begin: begin,
                        end: end
                    ).run()
                } catch {
                    state.fail("connection \(number): \(error)")
                }
                state.finished()
            }
        }
        for thread in threads { thread.start() }
        while !state.allFinished(threads.count) { usleep(20_000) }
        let sendSeconds = Double(Monotonic.now() - begin) / 1e9
        let cpu = CPUTimes.read().since(cpuBefore)

        // Let the last flushes land, then count what is durable.
        var durable = 0
        var stable = 0
        for _ in 0..<100 {
            usleep(200_000)
            let now =
                Int(
                    try database.execute(
                        "SELECT coalesce(sum(event_count), 0) FROM scan_batches WHERE flushed_at >= '\(startWall)'"
                    )[0][0] ?? "0"
                ) ?? 0
            stable = now == durable ? stable + 1 : 0
            durable = now
            if stable >= 3 && (options.transport != .tcp || state.inFlight == 0) { break }
        }
        let notices = watcher.stop()
        let streamed = streamWatcher?.stop()
        var naive: NaiveStorage.Result?
        if options.naive {
            progress("storing the same events one row per event for comparison…")
            naive = try NaiveStorage.measure(url: url, since: startWall, logBytesBefore: logBytesBefore)
        }
        return try LoadSummary.make(
            naive: naive,
            options: options,
            state: state,
            durable: durable,
            sendSeconds: sendSeconds,
            cpu: cpu,
            notices: notices,
            streamed: streamed,
            since: startWall,
            database: database
        )
    }
}

/// Shared between the sending threads, the acknowledgement readers and the summary.
final class LoadState: Sendable {
    struct Counts {
        var sent = 0
        var acked = 0
        var finished = 0
        var inFlight = 0
        var durableLatencies: [(nanoseconds: UInt64, events: Int)] = []
        var nextDiversion = 0
        var diversionSent: [String: UInt64] = [:]
        var errors: [String] = []
        /// Connections whose kernel refused to segment UDP datagrams.
        var segmentationRefused = 0
    }

    let diversions: [LoadWorkload.Serial]
    /// The run's span (monotonic nanoseconds): diversions are spread over it.
    let begin: UInt64
    let end: UInt64
    private let counts = Mutex(Counts())

    init(diversions: [LoadWorkload.Serial], begin: UInt64 = 0, end: UInt64 = 0) {
        self.diversions = diversions
        self.begin = begin
        self.end = end
    }

    func sent(_ events: Int) { counts.withLock { $0.sent += events } }

    func acked(_ events: Int, latency: UInt64) {
        counts.withLock {
            $0.acked += events
            $0.durableLatencies.append((latency, events))
        }
    }

    func inFlight(_ change: Int) { counts.withLock { $0.inFlight += change } }

    var inFlight: Int { counts.withLock { $0.inFlight } }

    /// The diversions to inject among the next `upcoming` events (at most `most`) when the share
    /// calls for them. When the share would use up the pool of diverted serials before the run
    /// ends, diversions are also spread evenly over the run, so that alert latencies are measured
    /// throughout and not only in its first seconds. One lock per system call, not per frame.
    func diversionsDue(share: Double, upcoming: Int, most: Int) -> [LoadWorkload.Serial] {
        let elapsed = end > begin ? Double(Monotonic.now() &- begin) / Double(end - begin) : 1
        return counts.withLock { counts in
            var due: [LoadWorkload.Serial] = []
            while due.count < most, counts.nextDiversion < diversions.count,
                Double(counts.nextDiversion + 1) <= share * Double(counts.sent + upcoming),
                Double(counts.nextDiversion) <= elapsed * Double(diversions.count)
            {
                due.append(diversions[counts.nextDiversion])
                counts.nextDiversion += 1
            }
            return due
        }
    }

    func diversionSent(_ serial: LoadWorkload.Serial, at time: UInt64) {
        let key = "\(serial.gtin)/\(String(decoding: serial.serial, as: UTF8.self))"
        counts.withLock { $0.diversionSent[key] = time }
    }

    func finished() { counts.withLock { $0.finished += 1 } }

    func refusedSegmentation() { counts.withLock { $0.segmentationRefused += 1 } }

    func allFinished(_ count: Int) -> Bool { counts.withLock { $0.finished >= count } }

    func fail(_ message: String) {
        counts.withLock { $0.errors.append(message) }
    }

    var snapshot: Counts { counts.withLock { $0 } }
}

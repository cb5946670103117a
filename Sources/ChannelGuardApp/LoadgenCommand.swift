import ArgumentParser
import ChannelGuardLoad
import ChannelGuardStore
import Foundation

/// `channelguard loadgen`: a gateway simulator against a running daemon on the demo network.
struct LoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Load a running daemon with demo-network scans and measure what it stores and detects.",
        discussion: """
            Reads bound serials, territories and gateways from the daemon's database, then sends \
            legitimate scans (receive, inspect, in the owner's territory) and a share of diversions \
            (a serial inspected in a province outside its territory) for --seconds, over TCP frames \
            (acknowledged), UDP datagrams of many events, or UDP with one event per datagram (udp1). \
            It then counts the durable events and checks every alert against the diversions sent. \
            --json ends the output with one summary object (docs/performance.md lists its fields).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "host:port of the daemon.")
    var to = "127.0.0.1:7700"

    @Option(help: "tcp, udp or udp1.")
    var transport = "tcp"

    @Option(help: "Events per second, or max.")
    var rate = "max"

    @Option(help: "How long to send, in seconds.")
    var seconds = 10.0

    @Option(
        name: .customLong("diversion-share"),
        help: "Share of events that are diversions (0–1); fewer, spread over the run, when the pool would not last it."
    )
    var diversionShare = 0.001

    @Option(name: .customLong("events-per-frame"), help: "Events per frame (tcp) or datagram (udp, at most 128).")
    var eventsPerFrame = 512

    @Option(help: "Parallel connections, each a gateway of its own.")
    var connections = 1

    @Option(help: "TCP frames sent and not yet acknowledged, per connection.")
    var window = 512

    @Option(help: "Bound serials to draw from.")
    var serials = 200_000

    @Flag(help: "After the run, store the same events one row per event (COPY into an indexed table) and compare.")
    var naive = false

    @Flag(
        inversion: .prefixedNo,
        help:
            "UDP: hand the kernel runs of equal-length datagrams to cut apart (GSO); the daemon still reads them one by one."
    )
    var udpSegmentation = true

    @Option(
        name: .customLong("pacing-ms"),
        help: "At a rate: how long a connection that owes nothing sleeps before sending what has come due (0.05–1000)."
    )
    var pacingMilliseconds = 1.0

    @Option(
        name: .customLong("alert-log"),
        help: "Write each diversion's alert latencies to this CSV file (sent_s,announced_ms,stored_ms)."
    )
    var alertLog: String?

    @Flag(help: "End with one JSON summary object.")
    var json = false

    @Option(
        name: .customLong("alert-stream"),
        help: "Also time alerts on the live stream: its URL (http://127.0.0.1:8080/v1/alerts/stream); needs --token."
    )
    var alertStream: String?

    @Option(help: "An API token for --alert-stream.")
    var token: String?

    func validate() throws {
        guard LoadGenerator.Transport(rawValue: transport) != nil else {
            throw ValidationError("--transport is tcp, udp or udp1")
        }
        guard rate == "max" || (Int(rate) ?? 0) > 0 else { throw ValidationError("--rate is a positive number or max") }
        guard seconds > 0, (0...1).contains(diversionShare), (1...16_384).contains(eventsPerFrame), connections >= 1
        else {
            throw ValidationError("--seconds > 0, --diversion-share 0–1, --events-per-frame 1–16384, --connections ≥ 1")
        }
        let parts = to.split(separator: ":")
        guard parts.count == 2, Int(parts[1]) != nil else { throw ValidationError("--to is host:port") }
        guard (0.05...1000).contains(pacingMilliseconds) else { throw ValidationError("--pacing-ms is 0.05–1000") }
        guard (alertStream == nil) == (token == nil) else {
            throw ValidationError("--alert-stream and --token go together")
        }
    }

    func run() async throws {
        var options = LoadGenerator.Options()
        let parts = to.split(separator: ":")
        options.host = String(parts[0])
        options.port = Int(parts[1])!
        options.transport = LoadGenerator.Transport(rawValue: transport)!
        options.rate = Int(rate)
        options.seconds = seconds
        options.diversionShare = diversionShare
        options.eventsPerFrame = eventsPerFrame
        options.connections = connections
        options.serials = serials
        options.naive = naive
        options.udpSegmentation = udpSegmentation
        options.window = max(1, window)
        options.pacingStep = .milliseconds(pacingMilliseconds)
        if let alertStream, let token { options.alertStream = (alertStream, token) }
        let quiet = json
        let summary = try await database.resolve().withDatabase { [options] url in
            try LoadGenerator(options: options, url: url).run { if !quiet { print($0) } }
        }
        if let alertLog {
            try summary.alertTimelineCSV.write(toFile: alertLog, atomically: true, encoding: .utf8)
        }
        if json {
            print(summary.json)
        } else {
            print(
                """
                \(summary.transport): \(summary.eventsSent) events sent, \(summary.eventsDurable) durable \
                (\(Int(summary.eventsPerSecond)) events/s, loss \(summary.lossRatio))
                durable latency p50 \(summary.durableP50 ?? .nan) ms, p99 \(summary.durableP99 ?? .nan) ms; \
                alert p99 \(summary.alertP99 ?? .nan) ms\(summary.streamAlertP99.map { "; on the alert stream p99 \($0) ms" } ?? "")
                diversions: \(summary.diversionsInjected) injected, \(summary.diversionsAlerted) alerted; \
                \(summary.falseAlerts) false alerts
                """
            )
        }
        if !summary.errors.isEmpty { throw ValidationError(summary.errors.joined(separator: "; ")) }
    }
}

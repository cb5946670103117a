import ArgumentParser
import ChannelGuardHTTP
import ChannelGuardIngest
import ChannelGuardNotify
import Hummingbird
import Logging

/// `channelguard serve`: start the database, migrate, and run until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run ChannelGuard: database, schema, HTTP; stops cleanly on Ctrl-C or SIGTERM.",
        discussion: """
            Starts the embedded database (unless --database-url is given), applies migrations, \
            loads the demo network on first start with --demo, and serves HTTP until stopped. \
            A database that serve started is stopped with it.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Load the demo brand network on first start (when the database has none).")
    var demo = false

    @Option(help: "Demo serials to bind when the demo network is loaded.")
    var serials = 100_000

    @Option(name: .customLong("http-host"), help: "Address the HTTP server listens on.")
    var httpHost = "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "HTTP port (0 picks a free one).")
    var httpPort = 8080

    @Option(name: .customLong("ingest-host"), help: "Address the UDP and TCP ingest listeners bind.")
    var ingestHost = "127.0.0.1"

    @Option(name: .customLong("tcp-port"), help: "TCP ingest port (0 picks a free one; --tcp-port=-1 turns TCP off).")
    var tcpPort = 7700

    @Option(name: .customLong("udp-port"), help: "UDP ingest port (0 picks a free one; --udp-port=-1 turns UDP off).")
    var udpPort = 7700

    @Option(
        name: .customLong("udp-sockets"),
        help:
            "UDP sockets sharing the port (SO_REUSEPORT), spread over the event loops; a datagram goes to socket (gateway id mod N)."
    )
    var udpSockets = 1

    @Option(help: "Pipeline shards (default: one per core).")
    var shards = System.coreCount

    @Option(name: .customLong("flush-ms"), help: "Flush a shard's batch after this many milliseconds.")
    var flushMilliseconds = 100

    @Option(
        name: .customLong("open-network"),
        help: "Accept the unauthenticated line protocol from this IPv4 network (CIDR); repeatable."
    )
    var openNetworks: [String] = []

    @Option(help: "Serial index snapshot file (default: serial-index.snapshot in the data directory).")
    var snapshot: String?

    @Option(
        name: .customLong("retention-days"),
        help: "Keep this many days of the event log in the database; older days go to --archive as files replay reads."
    )
    var retentionDays: Int?

    @Option(help: "Where archived days of the event log are written (default: archive/ in the data directory).")
    var archive: String?

    @Option(
        name: .customLong("checkpoint-seconds"),
        help: "Checkpoint the index and its scan state to the snapshot this often (a crash replays at most this much)."
    )
    var checkpointSeconds = 60

    @Option(
        help:
            "Directory of the shards' spool files, used while the database is unavailable (default: spool/ in the data directory)."
    )
    var spool: String?

    @Option(
        name: .customLong("public-url"),
        help:
            "The URL people reach this server at, for the incident links in webhook messages (default: the HTTP address)."
    )
    var publicURL: String?

    @Flag(name: .customLong("no-ingest"), help: "Serve HTTP only: no listeners, no pipeline.")
    var noIngest = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level '\(logLevel)'") }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0–65535") }
        guard serials >= 0 else { throw ValidationError("--serials must not be negative") }
        guard (-1...65535).contains(tcpPort), (-1...65535).contains(udpPort) else {
            throw ValidationError("--tcp-port and --udp-port must be -1–65535")
        }
        if let publicURL, !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            throw ValidationError("--public-url must be an http or https URL")
        }
        guard (1...64).contains(shards) else { throw ValidationError("--shards must be 1–64") }
        guard (1...64).contains(udpSockets) else { throw ValidationError("--udp-sockets must be 1–64") }
        guard flushMilliseconds >= 1 else { throw ValidationError("--flush-ms must be at least 1") }
        guard checkpointSeconds >= 1 else { throw ValidationError("--checkpoint-seconds must be at least 1") }
        if let retentionDays, retentionDays < 1 { throw ValidationError("--retention-days must be at least 1") }
        for network in openNetworks where IPv4Network(network) == nil {
            throw ValidationError("--open-network '\(network)' is not an IPv4 CIDR network such as 127.0.0.0/8")
        }
    }

    var ingestConfiguration: IngestConfiguration {
        var configuration = IngestConfiguration()
        configuration.listeners.host = ingestHost
        configuration.listeners.tcpPort = tcpPort < 0 ? nil : tcpPort
        configuration.listeners.udpPort = udpPort < 0 ? nil : udpPort
        configuration.listeners.udpSockets = udpSockets
        configuration.listeners.openNetworks = openNetworks
        configuration.pipeline.shards = shards
        configuration.pipeline.flushIntervalNanoseconds = UInt64(flushMilliseconds) * 1_000_000
        configuration.snapshotPath = snapshot
        configuration.checkpointInterval = .seconds(checkpointSeconds)
        configuration.partitions.retentionDays = retentionDays
        configuration.partitions.archiveDirectory = archive
        configuration.spoolDirectory = spool
        return configuration
    }

    func run() async throws {
        let configuration = ServeConfiguration(
            database: try database.resolve(),
            http: HTTPConfiguration(host: httpHost, port: httpPort),
            demo: demo,
            demoSerials: serials,
            logLevel: Logger.Level(rawValue: logLevel) ?? .info,
            ingest: noIngest ? nil : ingestConfiguration,
            webhooks: WebhookConfiguration(publicBaseURL: publicURL ?? "")
        )
        let app = try await buildApplication(configuration)
        try await app.runService()
    }
}

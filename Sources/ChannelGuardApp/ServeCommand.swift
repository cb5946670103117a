import ArgumentParser
import ChannelGuardHTTP
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

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level '\(logLevel)'") }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0–65535") }
        guard serials >= 0 else { throw ValidationError("--serials must not be negative") }
    }

    func run() async throws {
        let configuration = ServeConfiguration(
            database: try database.resolve(),
            http: HTTPConfiguration(host: httpHost, port: httpPort),
            demo: demo,
            demoSerials: serials,
            logLevel: Logger.Level(rawValue: logLevel) ?? .info
        )
        let app = try await buildApplication(configuration)
        try await app.runService()
    }
}

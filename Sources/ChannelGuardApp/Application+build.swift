import ChannelGuardCommerce
import ChannelGuardHTTP
import ChannelGuardIngest
import ChannelGuardNotify
import ChannelGuardStore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import PostgresNIO
import ServiceLifecycle

/// Builds the ChannelGuard application: database (embedded or given), schema, optional demo
/// network, then the services that `serve` runs until SIGINT or SIGTERM.
public func buildApplication(_ configuration: ServeConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "channelguard")
    logger.logLevel = configuration.logLevel

    // Checked before anything starts, so a taken port costs nothing to fix.
    if configuration.http.port != 0, ["127.0.0.1", "localhost"].contains(configuration.http.host),
        !LoopbackPort.isFree(configuration.http.port)
    {
        throw ApplicationError(
            .httpPortInUse,
            "The HTTP port \(configuration.http.port) on 127.0.0.1 is in use by another process.",
            fix: "Choose another with --http-port (0 picks a free one), or stop what holds it."
        )
    }

    if let ingest = configuration.ingest, let port = ingest.listeners.tcpPort, port != 0,
        ["127.0.0.1", "localhost"].contains(ingest.listeners.host), !LoopbackPort.isFree(port)
    {
        throw ApplicationError(
            .ingestPortInUse,
            "The TCP ingest port \(port) on 127.0.0.1 is in use by another process (another ChannelGuard?).",
            fix: "Choose others with --tcp-port and --udp-port (0 picks free ones), or stop what holds it."
        )
    }

    var embedded: (postgres: EmbeddedPostgres, lock: DataDirectoryLock, owned: Bool)?
    let url: DatabaseURL
    switch configuration.database {
    case .external(let given):
        url = given
    case .embedded(let postgres):
        let lock = try DataDirectoryLock(dataDirectory: prepare(postgres.dataDirectory))
        let started = try postgres.start()
        // A cluster left running by a serve that crashed is this serve's to stop; one started with
        // `db start` is the user's and stays up.
        let owned = started.startedHere || ServeOwnership.isMarked(postgres)
        if owned { try ServeOwnership.mark(postgres) }
        logger.info(
            "embedded database \(started.startedHere ? "started" : owned ? "taken over from an earlier serve" : "already running")",
            metadata: ["port": "\(started.status.port)", "dataDirectory": "\(postgres.dataDirectory.path)"]
        )
        embedded = (postgres, lock, owned)
        url = started.url
    }

    do {
        let report = try await withLibPQ(url) { try Migrator().migrate($0) }
        logger.info("schema at version \(report.version)", metadata: ["applied": "\(report.applied)"])
        if configuration.demo {
            let serials = configuration.demoSerials
            let loaded = try await withLibPQ(url) { connection -> DemoNetworkLoader.Report? in
                let loader = DemoNetworkLoader()
                guard try !loader.isLoaded(connection) else { return nil }
                return try loader.load(connection, serials: serials)
            }
            if let loaded {
                logger.info(
                    "demo network loaded",
                    metadata: [
                        "distributors": "\(loaded.distributorsAdded)", "products": "\(loaded.productsAdded)",
                        "serials": "\(loaded.serialsTotal)",
                    ]
                )
            }
        }
    } catch {
        if let embedded, embedded.owned {
            try? embedded.postgres.stop()
            ServeOwnership.clear(embedded.postgres)
        }
        throw error
    }

    let client = PostgresClient(configuration: url.postgresClientConfiguration(), backgroundLogger: logger)
    var services: [any Service] = []
    if let embedded {
        services.append(
            EmbeddedPostgresService(
                postgres: embedded.postgres,
                lock: embedded.lock,
                stopOnShutdown: embedded.owned,
                logger: logger
            )
        )
    }
    services.append(client)
    // The live feed has connections of its own, which keep one plan for its query.
    let feedClient = PostgresClient(configuration: AlertHub.clientConfiguration(for: url), backgroundLogger: logger)
    services.append(feedClient)
    let hub = AlertHub(client: feedClient, configuration: configuration.alertFeed, logger: logger)
    var ingest: IngestService?
    if var ingestConfiguration = configuration.ingest {
        // Inside the data directory, never beside it: two data directories in one parent had shared
        // one snapshot (and one spool), and a daemon loaded its neighbour's index.
        if ingestConfiguration.snapshotPath == nil, let embedded {
            ingestConfiguration.snapshotPath =
                embedded.postgres.dataDirectory.appendingPathComponent("serial-index.snapshot").path
        }
        if ingestConfiguration.spoolDirectory == nil, let embedded {
            ingestConfiguration.spoolDirectory = embedded.postgres.dataDirectory.appendingPathComponent("spool").path
        }
        if ingestConfiguration.partitions.archiveDirectory == nil, let embedded {
            ingestConfiguration.partitions.archiveDirectory =
                embedded.postgres.dataDirectory.appendingPathComponent("archive").path
        }
        let service = IngestService(
            configuration: ingestConfiguration,
            url: url,
            logger: logger,
            onListening: { addresses in
                let udp = addresses.udp.first.map { "udp://\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "off"
                let tcp = addresses.tcp.map { "tcp://\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "off"
                print("  Ingest    \(tcp)  \(udp)  (binary frames; docs/protocol.md)")
                configuration.onIngestReady?(addresses)
            },
            onAlertsStored: { hub.alertsStored() }
        )
        services.append(service)
        ingest = service
    }

    var metrics: (@Sendable () -> String)?
    if let ingest { metrics = { ingest.prometheusText() } }
    services.append(hub)
    var webhooks = configuration.webhooks
    if webhooks.publicBaseURL.isEmpty {
        let host = ["0.0.0.0", "::"].contains(configuration.http.host) ? "127.0.0.1" : configuration.http.host
        webhooks.publicBaseURL = "http://\(host):\(configuration.http.port)"
    }
    services.append(WebhookDispatcher(client: client, configuration: webhooks, logger: logger))
    let router = buildRouter(client: client, services: RouterServices(hub: hub, metrics: metrics))
    let databaseDescription =
        embedded.map { "\(url) (embedded, data in \($0.postgres.dataDirectory.path))" } ?? "\(url)"
    return Application(
        router: router,
        server: .http1WebSocketUpgrade(webSocketRouter: router),
        configuration: .init(
            address: .hostname(configuration.http.host, port: configuration.http.port),
            serverName: "ChannelGuard"
        ),
        services: services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.http.port
            print(
                """
                ChannelGuard is running.
                  HTTP      http://\(configuration.http.host):\(port)  (API /v1, live alerts /v1/alerts/stream; docs/openapi.yaml)
                  Database  \(databaseDescription)
                  Stop with Ctrl-C or SIGTERM.
                """
            )
        },
        logger: logger
    )
}

/// Creates the data directory so the lock file can be placed in it.
private func prepare(_ directory: URL) throws -> URL {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

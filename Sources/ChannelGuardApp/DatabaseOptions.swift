import ArgumentParser
import ChannelGuardStore
import Foundation

/// Where the database is: the options every command shares.
public struct DatabaseOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("data-dir"),
        help: "ChannelGuard's data directory, holding the embedded database (default: ./.channelguard)."
    )
    public var dataDirectory: String?

    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "Use this PostgreSQL server instead of the embedded one (also CHANNELGUARD_DATABASE_URL).",
            valueName: "postgresql://user:password@host:port/db"
        )
    )
    public var databaseURL: String?

    @Option(
        name: .customLong("db-port"),
        help: "A fixed loopback port for the embedded database (default: a free one)."
    )
    public var databasePort: Int?

    public init() {}

    /// The database these options name.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DatabaseTarget {
        if let text = databaseURL ?? environment["CHANNELGUARD_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return .external(try DatabaseURL(parsing: text))
        }
        let directory =
            dataDirectory.map { URL(fileURLWithPath: $0) } ?? EmbeddedPostgresConfiguration.defaultDataDirectory
        return .embedded(EmbeddedPostgres(configuration: .init(dataDirectory: directory, port: databasePort)))
    }
}

/// A database named on the command line: a server given by URL, or the embedded cluster.
public enum DatabaseTarget: Sendable {
    case external(DatabaseURL)
    case embedded(EmbeddedPostgres)

    /// Runs `body` against the database, starting the embedded cluster for the call when it is not
    /// running (and stopping it again afterwards), so one-off commands work with or without `serve`.
    public func withDatabase<T: Sendable>(_ body: @Sendable (DatabaseURL) async throws -> T) async throws -> T {
        switch self {
        case .external(let url):
            return try await body(url)
        case .embedded(let postgres):
            let started = try postgres.start()
            do {
                let result = try await body(started.url)
                if started.startedHere { try postgres.stop() }
                return result
            } catch {
                if started.startedHere { try? postgres.stop() }
                throw error
            }
        }
    }
}

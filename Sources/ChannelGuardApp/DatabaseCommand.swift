import ArgumentParser
import ChannelGuardStore
import Foundation

/// `channelguard db start|stop|status|url`: the embedded database by hand.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Start, stop or inspect the embedded database.",
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the embedded database and leave it running (creating it on first use)."
        )
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let postgres = try database.embedded()
            let started = try postgres.start()
            // Started by hand, it stays up until `db stop`, whatever serve does.
            if started.startedHere { ServeOwnership.clear(postgres) }
            print(
                started.startedHere
                    ? "Started the embedded database (pid \(started.status.pid))."
                    : "Already running (pid \(started.status.pid))."
            )
            print(started.url.urlString)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded database.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let postgres = try database.embedded()
            // A running serve owns the database: stop serve instead of pulling it out from under it.
            let lock = try DataDirectoryLock(dataDirectory: postgres.dataDirectory)
            guard postgres.status() != nil else {
                print("The embedded database is not running.")
                return
            }
            try postgres.stop()
            ServeOwnership.clear(postgres)
            withExtendedLifetime(lock) {}
            print("Stopped the embedded database.")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the embedded database runs (exit status 3 when it does not)."
        )
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let postgres = try database.embedded()
            print("Data directory: \(postgres.dataDirectory.path)")
            guard let status = postgres.status() else {
                print(postgres.isInitialised ? "Not running." : "Not created yet (serve or db start creates it).")
                throw ExitCode(3)
            }
            print("Running: pid \(status.pid), port \(status.port), socket directory \(status.socketDirectory)")
            let url = try postgres.url()
            if let version = try? await withLibPQ(url, { try Migrator().currentVersion($0) }) {
                print("Schema version: \(version) (this binary knows \(Migrator().latestVersion))")
            }
            print("URL: \(url)")
        }
    }

    struct URLCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url",
            abstract: "Print the database connection URL on the last line (password included).",
            discussion: "For example: psql \"$(channelguard db url | tail -1)\""
        )
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            switch try database.resolve() {
            case .external(let url): print(url.urlString)
            case .embedded(let postgres): print(try postgres.url().urlString)
            }
        }
    }
}

extension DatabaseOptions {
    /// The embedded cluster; `db` commands make no sense against a server given by URL.
    func embedded() throws -> EmbeddedPostgres {
        guard case .embedded(let postgres) = try resolve() else {
            throw ValidationError(
                "`db start`, `stop` and `status` manage the embedded database; a --database-url server is managed elsewhere."
            )
        }
        return postgres
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL cluster that ChannelGuard runs itself, in its data directory.
///
/// Layout of the data directory:
/// - `pgdata/` — the cluster (owned by the server user),
/// - `run/` — the Unix socket directory,
/// - `log/postgresql.log` — the server log,
/// - `password` — the superuser's password (mode 0600), `port` — the last port used,
/// - `channelguard.lock` — held by the `serve` process that owns the directory.
///
/// When ChannelGuard runs as root, `initdb`, `pg_ctl` and the server run as
/// ``EmbeddedPostgresConfiguration/serverUser`` through `runuser`, since PostgreSQL refuses root.
/// The server listens on 127.0.0.1 and the socket directory; host connections need the password.
public struct EmbeddedPostgres: Sendable {
    public let configuration: EmbeddedPostgresConfiguration

    public init(configuration: EmbeddedPostgresConfiguration) {
        self.configuration = configuration
    }

    /// What ``status()`` reports for a running cluster.
    public struct Status: Sendable, Equatable {
        public var pid: Int32
        public var port: Int
        public var socketDirectory: String
    }

    /// The result of ``start()``.
    public struct Started: Sendable {
        public var status: Status
        /// Whether this call started the server (`false`: it was already running and was reused).
        public var startedHere: Bool
        /// The URL of ChannelGuard's database in the cluster.
        public var url: DatabaseURL
    }

    public var dataDirectory: URL { configuration.dataDirectory }
    var clusterDirectory: URL { dataDirectory.appendingPathComponent("pgdata") }
    var socketDirectory: URL { dataDirectory.appendingPathComponent("run") }
    var logDirectory: URL { dataDirectory.appendingPathComponent("log") }
    public var logFile: URL { logDirectory.appendingPathComponent("postgresql.log") }
    var passwordFile: URL { dataDirectory.appendingPathComponent("password") }
    var portFile: URL { dataDirectory.appendingPathComponent("port") }

    /// Whether the cluster has been created (`initdb` has run).
    public var isInitialised: Bool {
        FileManager.default.fileExists(atPath: clusterDirectory.appendingPathComponent("PG_VERSION").path)
    }

    /// The running server, or `nil` when none runs for this data directory.
    ///
    /// Read from `postmaster.pid`; a file left by a crashed server whose process is gone reads as stopped.
    public func status() -> Status? {
        let pidFile = clusterDirectory.appendingPathComponent("postmaster.pid")
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 5, let pid = Int32(lines[0].trimmingCharacters(in: .whitespaces)),
            let port = Int(lines[3].trimmingCharacters(in: .whitespaces))
        else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return Status(pid: pid, port: port, socketDirectory: lines[4])
    }

    /// The URL of ChannelGuard's database in the running cluster.
    public func url() throws(StoreError) -> DatabaseURL {
        guard let status = status() else {
            throw StoreError(
                .notRunning,
                "The embedded database in \(dataDirectory.path) is not running.",
                fix: "Start it with `channelguard db start` (or run `channelguard serve`)."
            )
        }
        return try url(port: status.port)
    }

    func url(port: Int, database: String? = nil) throws(StoreError) -> DatabaseURL {
        let password: String
        do {
            password = try String(contentsOf: passwordFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
        } catch {
            throw StoreError(
                .dataDirectoryOwnedByOtherUser,
                "Cannot read \(passwordFile.path): \(error.localizedDescription)",
                fix: "Run ChannelGuard as the user that created \(dataDirectory.path)."
            )
        }
        return DatabaseURL(
            user: configuration.superuser,
            password: password,
            host: "127.0.0.1",
            port: port,
            database: database ?? configuration.database
        )
    }

    /// Starts the cluster (creating it on first use) or reuses the one already running, and makes
    /// sure ChannelGuard's database exists.
    public func start() throws(StoreError) -> Started {
        let binaries = try PostgresBinaries.locate(searchPath: configuration.binarySearchPath)
        let user = try ServerUser.resolve(configuredName: configuration.serverUser)
        try prepareDirectories(user: user)
        if let status = status() {
            try createDatabaseIfMissing(port: status.port)
            return Started(status: status, startedHere: false, url: try url(port: status.port))
        }
        if !isInitialised { try initialise(binaries: binaries, user: user) }
        let port = try choosePort()
        try launch(binaries: binaries, user: user, port: port)
        guard let status = status() else {
            throw StoreError(.startFailed, "The server reported a start but is not running.\n\(logTail())")
        }
        try createDatabaseIfMissing(port: status.port)
        return Started(status: status, startedHere: true, url: try url(port: status.port))
    }

    /// Stops the server (fast shutdown: open transactions roll back, committed data stays).
    /// Stopping a stopped cluster does nothing.
    public func stop() throws(StoreError) {
        guard status() != nil else { return }
        let binaries = try PostgresBinaries.locate(searchPath: configuration.binarySearchPath)
        let user = try ServerUser.resolve(configuredName: configuration.serverUser)
        let result = try run(
            user: user,
            binaries.pgCtl,
            ["stop", "-D", clusterDirectory.path, "-m", "fast", "-w", "-t", String(configuration.timeoutSeconds)]
        )
        guard result.succeeded else {
            throw StoreError(.stopFailed, "pg_ctl stop failed: \(result.output)", fix: "See \(logFile.path).")
        }
    }

    /// The last lines of the server log, for error messages.
    public func logTail(lines: Int = 15) -> String {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return "(no server log)" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    func run(user: ServerUser, _ executable: String, _ arguments: [String]) throws(StoreError) -> ProcessRunner.Result {
        do {
            return try ProcessRunner(user: user.runAs).run(executable, arguments)
        } catch {
            throw StoreError(.startFailed, "Cannot run \(executable): \(error)")
        }
    }
}

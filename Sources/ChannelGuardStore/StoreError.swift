/// An error from the store layer that a user or operator sees: what went wrong and how to fix it.
///
/// Codes are a growable set of static values, so new ones never break callers that switch on them.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// A stable, machine-readable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`) were not found.
        public static let binariesNotFound = Code("binaries_not_found")
        /// The data directory belongs to a user other than the one the server would run as.
        public static let dataDirectoryOwnedByOtherUser = Code("data_directory_owned_by_other_user")
        /// Another ChannelGuard process holds the data directory.
        public static let dataDirectoryLocked = Code("data_directory_locked")
        /// The unprivileged server user cannot reach the data directory.
        public static let dataDirectoryUnreachable = Code("data_directory_unreachable")
        /// No unprivileged user exists to run the server as.
        public static let noServerUser = Code("no_server_user")
        /// The requested port is taken.
        public static let portInUse = Code("port_in_use")
        /// The database URL cannot be parsed.
        public static let badDatabaseURL = Code("bad_database_url")
        /// `initdb` failed.
        public static let initFailed = Code("init_failed")
        /// The server did not start.
        public static let startFailed = Code("start_failed")
        /// The server did not stop.
        public static let stopFailed = Code("stop_failed")
        /// The embedded database is not running.
        public static let notRunning = Code("not_running")
        /// Connecting to PostgreSQL failed.
        public static let connectionFailed = Code("connection_failed")
        /// A statement failed.
        public static let queryFailed = Code("query_failed")
        /// A bulk COPY failed.
        public static let copyFailed = Code("copy_failed")
        /// The database schema is newer than this binary.
        public static let schemaNewerThanBinary = Code("schema_newer_than_binary")
        /// An applied migration differs from the one this binary carries.
        public static let migrationChanged = Code("migration_changed")
    }

    public let code: Code
    /// What happened.
    public let message: String
    /// What to do about it, when there is something to do.
    public let fix: String?

    public init(_ code: Code, _ message: String, fix: String? = nil) {
        self.code = code
        self.message = message
        self.fix = fix
    }

    public var description: String {
        if let fix { return "\(message)\nFix: \(fix)" }
        return message
    }
}

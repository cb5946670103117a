import Foundation

/// How ChannelGuard runs its own PostgreSQL cluster.
public struct EmbeddedPostgresConfiguration: Sendable {
    /// How hard the cluster tries to keep data across crashes.
    public enum Durability: Sendable {
        /// PostgreSQL's defaults: fsync on, full page writes. For `serve`.
        case durable
        /// fsync, synchronous commit and full page writes off: tests only.
        case throwaway
    }

    /// The ChannelGuard data directory; the cluster lives in its `pgdata` folder.
    public var dataDirectory: URL
    /// A fixed TCP port on 127.0.0.1; `nil` picks a free one (the previous one when still free).
    public var port: Int?
    public var durability: Durability
    /// Folders to look for `initdb`, `pg_ctl` and `postgres` in; `nil` searches the usual places
    /// (`pg_config --bindir`, then `/usr/lib/postgresql/*/bin`, newest first).
    public var binarySearchPath: [String]?
    /// The unprivileged user that runs the server when ChannelGuard runs as root.
    public var serverUser: String
    /// The database superuser the cluster is created with.
    public var superuser: String
    /// The database ChannelGuard uses inside the cluster.
    public var database: String
    /// Seconds to wait for the server to start or stop.
    public var timeoutSeconds: Int

    public init(
        dataDirectory: URL,
        port: Int? = nil,
        durability: Durability = .durable,
        binarySearchPath: [String]? = nil,
        serverUser: String = "postgres",
        superuser: String = "channelguard",
        database: String = "channelguard",
        timeoutSeconds: Int = 60
    ) {
        self.dataDirectory = dataDirectory.standardizedFileURL
        self.port = port
        self.durability = durability
        self.binarySearchPath = binarySearchPath
        self.serverUser = serverUser
        self.superuser = superuser
        self.database = database
        self.timeoutSeconds = timeoutSeconds
    }

    /// The default data directory: `.channelguard` in the current working directory.
    public static var defaultDataDirectory: URL {
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".channelguard")
    }
}

import ChannelGuardHTTP
import ChannelGuardIngest
import Logging

/// Everything `channelguard serve` needs to know.
public struct ServeConfiguration: Sendable {
    public var database: DatabaseTarget
    public var http: HTTPConfiguration
    /// Load the demo network on first start (when the database has none).
    public var demo: Bool
    /// Demo serials to bind when the demo network is loaded.
    public var demoSerials: Int
    public var logLevel: Logger.Level
    /// The ingest daemon (listeners, pipeline, writers); `nil` serves HTTP only.
    public var ingest: IngestConfiguration?

    public init(
        database: DatabaseTarget,
        http: HTTPConfiguration = .init(),
        demo: Bool = false,
        demoSerials: Int = 100_000,
        logLevel: Logger.Level = .info,
        ingest: IngestConfiguration? = IngestConfiguration()
    ) {
        self.ingest = ingest
        self.database = database
        self.http = http
        self.demo = demo
        self.demoSerials = demoSerials
        self.logLevel = logLevel
    }
}

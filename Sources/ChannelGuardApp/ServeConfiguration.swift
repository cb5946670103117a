import ChannelGuardHTTP
import ChannelGuardIngest
import ChannelGuardNotify
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
    /// Webhook deliveries; `publicBaseURL` empty means the HTTP address `serve` listens on.
    public var webhooks: WebhookConfiguration
    /// The live alert feed.
    public var alertFeed: AlertHub.Configuration
    /// Called once the ingest listeners are bound (the ports, when 0 asked the kernel to pick).
    public var onIngestReady: (@Sendable (IngestService.Addresses) -> Void)?

    public init(
        database: DatabaseTarget,
        http: HTTPConfiguration = .init(),
        demo: Bool = false,
        demoSerials: Int = 100_000,
        logLevel: Logger.Level = .info,
        ingest: IngestConfiguration? = IngestConfiguration(),
        webhooks: WebhookConfiguration = WebhookConfiguration(publicBaseURL: ""),
        alertFeed: AlertHub.Configuration = .init()
    ) {
        self.webhooks = webhooks
        self.alertFeed = alertFeed
        self.ingest = ingest
        self.database = database
        self.http = http
        self.demo = demo
        self.demoSerials = demoSerials
        self.logLevel = logLevel
    }
}

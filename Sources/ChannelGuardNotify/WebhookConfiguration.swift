/// How webhooks are delivered.
public struct WebhookConfiguration: Sendable {
    /// Where the incident links in messages point (`<base>/v1/incidents/<id>`).
    public var publicBaseURL: String
    /// The first retry waits this long; each later one twice as long, up to ``maximumDelay``.
    public var baseDelay: Duration
    public var maximumDelay: Duration
    /// A receiver that does not answer within this is a failed attempt.
    public var requestTimeout: Duration
    /// Deliveries sent at once.
    public var concurrency: Int
    /// How often due retries are looked for without a notification.
    public var pollInterval: Duration

    public init(
        publicBaseURL: String = "http://127.0.0.1:8080",
        baseDelay: Duration = .seconds(5),
        maximumDelay: Duration = .seconds(3600),
        requestTimeout: Duration = .seconds(10),
        concurrency: Int = 8,
        pollInterval: Duration = .seconds(1)
    ) {
        self.publicBaseURL = publicBaseURL
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.requestTimeout = requestTimeout
        self.concurrency = concurrency
        self.pollInterval = pollInterval
    }

    /// The wait after failed attempt `attempt` (1-based): base × 2^(attempt − 1), capped.
    public func delay(afterAttempt attempt: Int) -> Duration {
        let factor = 1 << min(max(attempt - 1, 0), 20)
        let delay = baseDelay * factor
        return delay < maximumDelay ? delay : maximumDelay
    }
}

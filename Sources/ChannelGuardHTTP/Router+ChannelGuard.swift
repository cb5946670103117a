import Foundation
import Hummingbird
import PostgresNIO

/// What the router serves beside the database.
public struct RouterServices: Sendable {
    /// The live alert feed behind `/v1/alerts/stream` and `/v1/alerts/ws`.
    public var hub: AlertHub
    /// Renders the Prometheus text served at `GET /metrics` (absent: no such route).
    public var metrics: (@Sendable () -> String)?

    public init(hub: AlertHub, metrics: (@Sendable () -> String)? = nil) {
        self.hub = hub
        self.metrics = metrics
    }
}

/// The ChannelGuard router: `/health`, `/metrics`, `/openapi.yaml` without a token, and the `/v1`
/// API behind ``TokenAuthenticator``. WebSocket routes are upgraded by the same router
/// (`.http1WebSocketUpgrade(webSocketRouter:)`).
public func buildRouter(client: PostgresClient, services: RouterServices) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.debug))
    HealthController(client: client).addRoutes(to: router)
    if let metrics = services.metrics {
        let hub = services.hub
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: metrics() + hub.prometheusText() + APIRejections.shared.prometheusText()
                    )
                )
            )
        }
    }
    router.get("openapi.yaml") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "application/yaml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: try OpenAPIDocument.text()))
        )
    }
    let authenticator = TokenAuthenticator(client: client)
    let v1 = router.group("v1").add(middleware: authenticator)
    AccountsController(client: client, authenticator: authenticator).addRoutes(to: v1)
    AlertsController(client: client, hub: services.hub).addRoutes(to: v1)
    IncidentsController(client: client).addRoutes(to: v1)
    WebhooksController(client: client).addRoutes(to: v1)
    AuditsController(client: client).addRoutes(to: v1)
    return router
}

/// The OpenAPI 3.1 description of the API (`docs/openapi.yaml`, shipped as a resource).
public enum OpenAPIDocument {
    public static func text() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw APIError(.unavailable, "The OpenAPI document is missing from this build.")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

extension AlertHub {
    /// The feed's counters in Prometheus text.
    public func prometheusText() -> String {
        """
        # HELP channelguard_alert_feed_published_total Stored alerts published to the live feed.
        # TYPE channelguard_alert_feed_published_total counter
        channelguard_alert_feed_published_total \(published.load(ordering: .relaxed))
        # HELP channelguard_alert_feed_subscribers Live feed readers (SSE and WebSocket).
        # TYPE channelguard_alert_feed_subscribers gauge
        channelguard_alert_feed_subscribers \(subscriberCount)
        # HELP channelguard_alert_feed_dropped_total Readers dropped for falling behind.
        # TYPE channelguard_alert_feed_dropped_total counter
        channelguard_alert_feed_dropped_total \(droppedSubscribers.load(ordering: .relaxed))

        """
    }
}

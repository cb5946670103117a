import Hummingbird
import PostgresNIO

/// The ChannelGuard router: health and metrics now; the `/v1` API joins it later.
///
/// `metrics` renders the Prometheus text served at `GET /metrics` (absent: no such route).
public func buildRouter(
    client: PostgresClient,
    metrics: (@Sendable () -> String)? = nil
) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.debug))
    HealthController(client: client).addRoutes(to: router)
    if let metrics {
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics()))
            )
        }
    }
    return router
}

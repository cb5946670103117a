import Hummingbird
import PostgresNIO

/// The ChannelGuard router: health now; the `/v1` API joins it later.
public func buildRouter(client: PostgresClient) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.debug))
    HealthController(client: client).addRoutes(to: router)
    return router
}

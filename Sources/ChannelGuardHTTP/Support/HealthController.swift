import Hummingbird
import Logging
import PostgresNIO

/// `GET /health`: whether the service and its database answer, and the schema version.
public struct HealthController: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// The body of a health response.
    public struct Health: ResponseEncodable, Decodable, Equatable, Sendable {
        public var status: String
        public var database: String
        public var schemaVersion: Int?

        public init(status: String, database: String, schemaVersion: Int?) {
            self.status = status
            self.database = database
            self.schemaVersion = schemaVersion
        }
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("health") { _, context in
            try await check(logger: context.logger)
        }
    }

    func check(logger: Logger) async throws -> EditedResponse<Health> {
        do {
            let rows = try await client.query(
                "SELECT coalesce(max(version), 0)::int8 FROM schema_migrations",
                logger: logger
            )
            var version: Int?
            for try await (value) in rows.decode(Int.self) { version = value }
            return EditedResponse(status: .ok, response: Health(status: "ok", database: "ok", schemaVersion: version))
        } catch {
            logger.warning("health check: database unavailable", metadata: ["error": "\(String(reflecting: error))"])
            return EditedResponse(
                status: .serviceUnavailable,
                response: Health(status: "unavailable", database: "unreachable", schemaVersion: nil)
            )
        }
    }
}

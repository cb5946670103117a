import Logging
import PostgresNIO

extension DatabaseURL {
    /// Runs `body` with a connected postgres-nio client that lives only for the call.
    public func withClient<T: Sendable>(
        logger: Logger = Logger(label: "channelguard.db"),
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: postgresClientConfiguration(), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

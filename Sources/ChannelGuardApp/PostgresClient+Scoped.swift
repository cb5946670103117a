import ChannelGuardStore
import Logging
import PostgresNIO

/// Runs `body` with a PostgresNIO client for `url`, running the client's pool around it.
func withPostgresClient<Result: Sendable>(
    _ url: DatabaseURL,
    _ body: @Sendable (PostgresClient) async throws -> Result
) async throws -> Result {
    var logger = Logger(label: "channelguard")
    logger.logLevel = .warning
    let client = PostgresClient(configuration: url.postgresClientConfiguration(), backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            await client.run()
            return nil
        }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

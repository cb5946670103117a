import ArgumentParser
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

extension PostgresClient {
    /// The distributor a command-line argument names, by code or id (`ValidationError` when none).
    func distributor(named codeOrID: String, logger: Logger) async throws -> (id: Int64, code: String) {
        let rows = try await query(
            "SELECT id, code FROM distributors WHERE code = \(codeOrID) OR id::text = \(codeOrID)",
            logger: logger
        )
        for try await (id, code) in rows.decode((Int64, String).self) { return (id, code) }
        throw ValidationError("no distributor has the code or id \(codeOrID)")
    }
}

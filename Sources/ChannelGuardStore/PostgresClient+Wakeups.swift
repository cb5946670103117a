import Logging
import PostgresNIO

extension PostgresClient {
    /// Yields to `wake` once LISTEN on `channel` is in place and on every notification, holding one
    /// pooled connection; reconnects after a failure until the task is cancelled. For loops that
    /// re-read the database when something changed (they also poll, to catch up after a gap).
    public func wakeOnNotifications(
        _ channel: String,
        wake: AsyncStream<Void>.Continuation,
        logger: Logger
    ) async {
        while !Task.isCancelled {
            do {
                try await withConnection { connection in
                    let notifications = try await connection.listen(channel)
                    wake.yield()
                    for try await _ in notifications { wake.yield() }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "LISTEN \(channel) failed; retrying",
                    metadata: ["error": "\(String(reflecting: error))"]
                )
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}

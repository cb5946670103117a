import Logging
import PostgresNIO
import ServiceLifecycle

extension PostgresClient {
    /// Runs `work` whenever a notification on `channel` arrives, whenever `nudges` yields (a
    /// change made in this process, known before its notification arrives) and every `interval` (to
    /// catch up after a gap), one run at a time; `tick` runs on every interval. Graceful shutdown
    /// lets the run in progress finish, then returns. For services that re-read the database when
    /// something changed: the live alert feed and the webhook dispatcher.
    public func runOnWakeups(
        _ channel: String,
        every interval: Duration,
        nudges: AsyncStream<Void>? = nil,
        logger: Logger,
        tick: @escaping @Sendable () -> Void = {},
        _ work: @escaping @Sendable () async -> Void
    ) async {
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wakeOnNotifications(channel, wake: wake, logger: logger) }
            if let nudges {
                group.addTask {
                    for await _ in nudges { wake.yield() }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    wake.yield()
                    tick()
                }
            }
            group.addTask {
                for await _ in wakes { await work() }
            }
            await withGracefulShutdownHandler {
                await group.next()
            } onGracefulShutdown: {
                wake.finish()
            }
            group.cancelAll()
        }
    }

    /// Yields to `wake` once LISTEN on `channel` is in place and on every notification, holding one
    /// pooled connection; reconnects after a failure until the task is cancelled.
    func wakeOnNotifications(
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

import ChannelGuardStore
import Foundation
import Logging
import Synchronization

/// A thread that listens on a PostgreSQL channel and runs `catchUp` when a notification arrives,
/// and at least once a second (a notification missed while reconnecting is caught up that way).
/// The followers of reference and binding changes are built on it.
final class ChangeListener: Sendable {
    private let url: DatabaseURL
    private let channel: String
    private let logger: Logger
    private let catchUp: @Sendable (LibPQConnection) throws -> Void
    private let stopping = Atomic<Bool>(false)
    private let stopped = ThreadCompletion()

    init(
        url: DatabaseURL,
        channel: String,
        logger: Logger,
        catchUp: @escaping @Sendable (LibPQConnection) throws -> Void
    ) {
        self.url = url
        self.channel = channel
        self.logger = logger
        self.catchUp = catchUp
    }

    func start() {
        Thread { [self] in
            run()
            stopped.finish()
        }.start()
    }

    /// Stops following; returns once the thread has ended (within its 100 ms wait for a notice,
    /// or the catch-up it is in).
    func stop() async {
        stopping.store(true, ordering: .relaxed)
        await stopped.wait()
    }

    private func run() {
        var connection: LibPQConnection?
        var lastCheck = ContinuousClock.now - .seconds(10)
        while !stopping.load(ordering: .relaxed) {
            do {
                if connection == nil {
                    let opened = try LibPQConnection(url: url)
                    try opened.listen(channel)
                    connection = opened
                    lastCheck = ContinuousClock.now - .seconds(10)  // catch up after (re)connecting
                }
                let notified = try !connection!.notifications(timeoutMilliseconds: 100).isEmpty
                guard notified || ContinuousClock.now - lastCheck >= .seconds(1) else { continue }
                lastCheck = ContinuousClock.now
                try catchUp(connection!)
            } catch {
                connection = nil
                logger.warning(
                    "lost the database while following \(channel); retrying",
                    metadata: ["error": "\(error)"]
                )
                // Retry after half a second, or sooner when asked to stop.
                for _ in 0..<10 where !stopping.load(ordering: .relaxed) { usleep(50_000) }
            }
        }
    }
}

import ChannelGuardStore
import Foundation
import Logging
import Synchronization

/// Keeps the reference data current: listens for `channelguard_reference` on a connection of its
/// own (a change reaches the pipeline within milliseconds) and, after a reconnect or a missed
/// notification, catches up by comparing `max(reference_changes.seq)` with the version it holds
/// (checked at least once a second).
final class ReferenceFollower: Sendable {
    static let channel = "channelguard_reference"

    private let url: DatabaseURL
    private let store: ReferenceDataStore
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// Reloads so far (for tests and logs).
    let reloads = Counter()

    init(url: DatabaseURL, store: ReferenceDataStore, logger: Logger) {
        self.url = url
        self.store = store
        self.logger = logger
    }

    func start() {
        Thread { [self] in
            run()
            stopped.store(true, ordering: .relaxed)
        }.start()
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        while !stopped.load(ordering: .relaxed) { usleep(5_000) }
    }

    private func run() {
        var connection: LibPQConnection?
        var lastCheck = ContinuousClock.now - .seconds(10)
        while !stopping.load(ordering: .relaxed) {
            do {
                if connection == nil {
                    let opened = try LibPQConnection(url: url)
                    try opened.listen(Self.channel)
                    connection = opened
                    lastCheck = ContinuousClock.now - .seconds(10)  // catch up after (re)connecting
                }
                let notified = try !connection!.notifications(timeoutMilliseconds: 100).isEmpty
                guard notified || ContinuousClock.now - lastCheck >= .seconds(1) else { continue }
                lastCheck = ContinuousClock.now
                let latest =
                    Int64(try connection!.execute("SELECT coalesce(max(seq), 0) FROM reference_changes")[0][0] ?? "0")
                    ?? 0
                guard latest != store.current.version else { continue }
                let (reloaded, skipped) = try ReferenceData.load(connection!)
                store.replace(with: reloaded)
                reloads.add(1)
                logger.info(
                    "reference data reloaded",
                    metadata: ["version": "\(reloaded.version)", "skipped": "\(skipped.count)"]
                )
            } catch {
                connection = nil
                logger.warning("reference data follower lost the database; retrying", metadata: ["error": "\(error)"])
                usleep(500_000)
            }
        }
    }
}

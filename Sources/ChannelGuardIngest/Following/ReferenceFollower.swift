import ChannelGuardDetection
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

    init(url: DatabaseURL, store: ReferenceDataStore, logger: Logger) {
        self.url = url
        self.store = store
        self.logger = logger
    }

    func start() -> ChangeListener {
        let listener = ChangeListener(url: url, channel: Self.channel, logger: logger) { [self] connection in
            try catchUp(connection)
        }
        listener.start()
        return listener
    }

    /// Reloads the reference data when `reference_changes` has moved past the version held.
    private func catchUp(_ connection: LibPQConnection) throws {
        let latest =
            Int64(try connection.execute("SELECT coalesce(max(seq), 0) FROM reference_changes")[0][0] ?? "0") ?? 0
        guard latest != store.current.version else { return }
        let (reloaded, skipped) = try ReferenceData.load(connection)
        store.replace(with: reloaded)
        logger.info(
            "reference data reloaded",
            metadata: ["version": "\(reloaded.version)", "skipped": "\(skipped.count)"]
        )
    }
}

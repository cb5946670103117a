import ChannelGuardStore
import Logging
import ServiceLifecycle

/// Keeps the embedded cluster (and the data-directory lock) for the life of `serve`, and stops
/// the cluster on graceful shutdown when `serve` started it. Listed first in the service group, it
/// is shut down last, after everything that uses the database.
struct EmbeddedPostgresService: Service {
    let postgres: EmbeddedPostgres
    let lock: DataDirectoryLock
    let stopOnShutdown: Bool
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        guard stopOnShutdown else {
            logger.info("leaving the embedded database running: it was running before serve started")
            return
        }
        logger.info("stopping the embedded database")
        do {
            try postgres.stop()
            ServeOwnership.clear(postgres)
        } catch {
            logger.error("stopping the embedded database failed", metadata: ["error": "\(error)"])
        }
        withExtendedLifetime(lock) {}
    }
}

import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardStore
import Foundation
import Logging
import ServiceLifecycle

/// Runs the ingest service in-process against a database for a test body, on loopback ports the
/// kernel picks, then stops it gracefully.
enum IngestHarness {
    static func configuration(spool: String? = nil) -> IngestConfiguration {
        var configuration = IngestConfiguration()
        configuration.listeners.tcpPort = 0
        configuration.listeners.udpPort = 0
        configuration.listeners.openNetworks = ["127.0.0.0/8"]
        configuration.pipeline.shards = 2
        configuration.pipeline.flushIntervalNanoseconds = 20_000_000
        // Folds every half second, not every 30 s: a test that reads the rollups then waits for a
        // fold within its own deadline instead of racing the production interval.
        configuration.pipeline.rollupFoldNanoseconds = 500_000_000
        configuration.spoolDirectory = spool
        return configuration
    }

    static func run(
        url: DatabaseURL,
        configuration: IngestConfiguration = configuration(),
        _ body: @Sendable (_ tcp: Int, _ udp: Int, _ service: IngestService) async throws -> Void
    ) async throws {
        var logger = Logger(label: "ingest-test")
        logger.logLevel = .error
        let (addresses, continuation) = AsyncStream<IngestService.Addresses>.makeStream()
        let service = IngestService(configuration: configuration, url: url, logger: logger) {
            continuation.yield($0)
        }
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = addresses.makeAsyncIterator()
            guard let bound = await iterator.next() else { throw SendError("ingest did not start") }
            do {
                try await body(bound.tcp?.port ?? 0, bound.udp.first?.port ?? 0, service)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Waits (bounded) until `condition` holds.
    static func wait(seconds: Double = 30, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }
}

import ChannelGuardStore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The throwaway PostgreSQL cluster of one test run: started on first use, stopped when the test
/// process exits, holding a migrated template database that each suite clones.
///
/// Clusters live in `/tmp/channelguard-tests/cluster-PID` (reachable by the unprivileged server
/// user when tests run as root). A cluster left behind by a killed run is stopped and removed the
/// next time tests start.
public final class TestCluster: Sendable {
    public let postgres: EmbeddedPostgres
    /// The URL of the cluster's `postgres` database, for creating and dropping databases.
    public let adminURL: DatabaseURL
    /// The migrated database each suite's database is cloned from.
    public let templateDatabase = "channelguard_template"

    /// The cluster of this test process, started on first use.
    public static func shared() throws -> TestCluster {
        try sharedResult.get()
    }

    private static let sharedResult: Result<TestCluster, any Error> = Result { try TestCluster() }
    private static let running = Mutex<EmbeddedPostgres?>(nil)
    public static let root = URL(fileURLWithPath: "/tmp/channelguard-tests")

    private init() throws {
        try FileManager.default.createDirectory(at: Self.root, withIntermediateDirectories: true)
        Self.removeStaleClusters()
        let directory = Self.root.appendingPathComponent("cluster-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        let postgres = EmbeddedPostgres(
            configuration: .init(dataDirectory: directory, durability: .throwaway, database: "postgres")
        )
        let started = try postgres.start()
        Self.running.withLock { $0 = postgres }
        atexit { TestCluster.stopAtExit() }
        self.postgres = postgres
        self.adminURL = started.url
        let admin = try LibPQConnection(url: adminURL)
        try admin.execute("CREATE DATABASE \(templateDatabase)")
        let template = try LibPQConnection(url: adminURL.with(database: templateDatabase))
        _ = try Migrator().migrate(template)
    }

    private static func stopAtExit() {
        guard let postgres = running.withLock({ $0 }) else { return }
        try? postgres.stop()
        try? FileManager.default.removeItem(at: postgres.dataDirectory)
    }

    /// Stops and removes clusters whose test process is gone.
    private static func removeStaleClusters() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        for name in names where name.hasPrefix("cluster-") {
            guard let pid = Int32(name.dropFirst("cluster-".count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let directory = root.appendingPathComponent(name)
            try? EmbeddedPostgres(configuration: .init(dataDirectory: directory, durability: .throwaway)).stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }
}

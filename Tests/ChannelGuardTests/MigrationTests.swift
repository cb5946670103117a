import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

@Suite struct MigrationTests {
    /// A new, empty database in the shared test cluster (not cloned from the template).
    func withEmptyDatabase(_ body: (LibPQConnection) throws -> Void) async throws {
        let cluster = try TestCluster.shared()
        let name = "cg_empty_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try LibPQConnection(url: cluster.adminURL)
        try admin.execute("CREATE DATABASE \(name)")
        defer { _ = try? admin.execute("DROP DATABASE \(name) WITH (FORCE)") }
        let connection = try LibPQConnection(url: cluster.adminURL.with(database: name))
        try body(connection)
    }

    @Test func migratesFromEmptyAndAgainChangesNothing() async throws {
        try await withEmptyDatabase { (connection: LibPQConnection) throws in
            let migrator = Migrator()
            #expect(try migrator.currentVersion(connection) == 0)
            let first = try migrator.migrate(connection)
            #expect(first.applied == Migration.all.map(\.version))
            #expect(first.version == migrator.latestVersion)
            let tables = try connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0]
            let regions = try connection.execute("SELECT count(*), count(*) FILTER (WHERE level = 1) FROM regions")[0]

            let second = try migrator.migrate(connection)
            #expect(second.applied.isEmpty)
            #expect(second.version == first.version)
            #expect(
                try connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0] == tables
            )
            #expect(
                try connection.execute("SELECT count(*), count(*) FILTER (WHERE level = 1) FROM regions")[0] == regions
            )
            #expect(regions == ["3511", "34"])
            #expect(
                try connection.execute("SELECT count(*) FROM schema_migrations")[0][0] == String(Migration.all.count)
            )
        }
    }

    @Test func databaseNewerThanTheBinaryIsRefused() async throws {
        try await withEmptyDatabase { (connection: LibPQConnection) throws in
            _ = try Migrator().migrate(connection)
            try connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')"
            )
            let error = #expect(throws: StoreError.self) { _ = try Migrator().migrate(connection) }
            #expect(error?.code == .schemaNewerThanBinary)
            #expect(error?.message.contains("version 999") == true)
        }
    }

    @Test func anEditedAppliedMigrationIsRefused() async throws {
        try await withEmptyDatabase { (connection: LibPQConnection) throws in
            _ = try Migrator().migrate(connection)
            var edited = Migration.all
            edited[0] = .sql(version: 1, name: "schema", "SELECT 1")
            let error = #expect(throws: StoreError.self) { _ = try Migrator(migrations: edited).migrate(connection) }
            #expect(error?.code == .migrationChanged)
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await withEmptyDatabase { (connection: LibPQConnection) throws in
            let broken = Migration.sql(version: 1, name: "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")
            #expect(throws: StoreError.self) { _ = try Migrator(migrations: [broken]).migrate(connection) }
            #expect(try connection.execute("SELECT to_regclass('half_done') IS NULL")[0][0] == "t")
            #expect(try Migrator(migrations: [broken]).currentVersion(connection) == 0)
        }
    }
}

import ChannelGuardStore
import Foundation
import Testing

/// A fresh database for one test suite, cloned from the cluster's migrated template.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: DatabaseURL

    /// The database of the suite running now (set by the ``DatabaseTrait``).
    @TaskLocal public static var current: TestDatabase?

    /// The current suite's database; fails the test when the suite lacks the `.database` trait.
    public static func require() throws -> TestDatabase {
        try #require(current, "this suite needs the .database trait")
    }

    /// Clones the template into a new database.
    public static func create() async throws -> TestDatabase {
        let cluster = try TestCluster.shared()
        let name = "cg_test_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = cluster.adminURL
        try await withLibPQ(admin) { connection in
            try connection.execute("CREATE DATABASE \(name) TEMPLATE \(cluster.templateDatabase)")
        }
        return TestDatabase(name: name, url: admin.with(database: name))
    }

    /// Drops the database, closing whatever connections are still open to it.
    public func drop() async throws {
        let admin = try TestCluster.shared().adminURL
        try await withLibPQ(admin) { [name] connection in
            try connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// A libpq connection to this database.
    public func connect() throws -> LibPQConnection {
        try LibPQConnection(url: url)
    }
}

/// Gives a suite (or one test) its own fresh, migrated database for its duration.
public struct DatabaseTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let database = try await TestDatabase.create()
        do {
            try await TestDatabase.$current.withValue(database) { try await function() }
        } catch {
            try? await database.drop()
            throw error
        }
        try await database.drop()
    }
}

extension Trait where Self == DatabaseTrait {
    /// A fresh, migrated database from the shared throwaway cluster.
    public static var database: Self { DatabaseTrait() }
}

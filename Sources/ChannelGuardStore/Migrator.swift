/// Applies the schema migrations to a database: each in its own transaction, recorded in
/// `schema_migrations`, serialised across processes by an advisory lock.
///
/// Running it twice changes nothing. A database whose schema is newer than the migrations this
/// binary carries, or whose applied migrations differ from them, is refused.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// What a run did.
    public struct Report: Sendable, Equatable {
        /// The versions applied by this run, in order.
        public var applied: [Int]
        /// The schema version after the run.
        public var version: Int
    }

    public init(migrations: [Migration] = Migration.all) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The newest version this binary knows.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Brings the database up to ``latestVersion``.
    public func migrate(_ connection: LibPQConnection) throws -> Report {
        try connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))") }
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        let applied = try appliedMigrations(connection)
        try verify(applied: applied)
        var report = Report(applied: [], version: applied.keys.max() ?? 0)
        for migration in migrations where applied[migration.version] == nil {
            try apply(migration, on: connection)
            report.applied.append(migration.version)
            report.version = migration.version
        }
        return report
    }

    /// The schema version recorded in the database (0 when none).
    public func currentVersion(_ connection: LibPQConnection) throws -> Int {
        let exists = try connection.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard exists.first?.first == "t" else { return 0 }
        return Int(try connection.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0] ?? "0") ?? 0
    }

    private func appliedMigrations(_ connection: LibPQConnection) throws -> [Int: (name: String, checksum: String)] {
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in try connection.execute("SELECT version, name, checksum FROM schema_migrations") {
            if let version = row[0].flatMap(Int.init) { applied[version] = (row[1] ?? "", row[2] ?? "") }
        }
        return applied
    }

    private func verify(applied: [Int: (name: String, checksum: String)]) throws(StoreError) {
        if let newest = applied.keys.max(), newest > latestVersion {
            throw StoreError(
                .schemaNewerThanBinary,
                "The database schema is at version \(newest), newer than this ChannelGuard binary knows (\(latestVersion)).",
                fix: "Run the newer ChannelGuard that migrated this database; an older binary must not write to it."
            )
        }
        for migration in migrations {
            if let recorded = applied[migration.version], recorded.checksum != migration.checksum {
                throw StoreError(
                    .migrationChanged,
                    "Migration \(migration.version) (\(migration.name)) differs from the one applied to this database "
                        + "(checksum \(recorded.checksum), this binary has \(migration.checksum)).",
                    fix: "Applied migrations are never edited: put the change in a new migration."
                )
            }
        }
    }

    private func apply(_ migration: Migration, on connection: LibPQConnection) throws {
        try connection.execute("BEGIN")
        do {
            switch migration.body {
            case .sql(let text): try connection.execute(text)
            case .code(let body): try body(connection)
            }
            try connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                [String(migration.version), migration.name, migration.checksum]
            )
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw StoreError(.queryFailed, "Migration \(migration.version) (\(migration.name)) failed: \(error)")
        }
    }

    /// The advisory lock key that serialises migrations (ASCII "CGMIGRAT").
    static let lockKey: Int64 = 0x4347_4D49_4752_4154
}

import ChannelGuardStore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Keeps `scan_batches`' day partitions as the days go by: creates the days ahead, and with a
/// retention, exports each day past it to a file in the archive directory and then drops it.
/// ``PartitionPlan`` decides; this applies it. Run by the ingest service at start and every hour.
///
/// An archived day is written first (`COPY` of its batches, fsync, rename into place) and dropped
/// only after: a crash in between leaves the day in the table and a file that the next run writes
/// again. A day whose batches are not all folded into the rollups yet is kept until they are. The
/// files are what `ScanLog.replay(archive:)` and `channelguard replay --archive` read.
public struct PartitionKeeper: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Days after today that must have a partition.
        public var ahead = 7
        /// Days of batches kept in the database (`nil`: all).
        public var retentionDays: Int?
        /// Where archived days are written.
        public var archiveDirectory: String?

        public init(ahead: Int = 7, retentionDays: Int? = nil, archiveDirectory: String? = nil) {
            self.ahead = ahead
            self.retentionDays = retentionDays
            self.archiveDirectory = archiveDirectory
        }
    }

    /// What one run did.
    public struct Outcome: Sendable, Hashable {
        public var created: [Int] = []
        public var archived: [Int] = []
        /// Days past the retention kept because their batches are not all folded yet.
        public var postponed: [Int] = []
    }

    public var configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The file an archived day is written to.
    public static func archiveName(day: String) -> String { "scan_batches_\(day).cglog" }

    /// Applies the plan for `today` (the database's current date unless given, in days since
    /// 1970-01-01: tests simulate day boundaries with it).
    public func run(_ connection: LibPQConnection, today given: Int? = nil) throws -> Outcome {
        let today =
            try given
            ?? Int(connection.execute("SELECT current_date - date '1970-01-01'")[0][0] ?? "")
            ?? { throw StoreError(.queryFailed, "the database did not say what day it is") }()
        var existing: [Int: String] = [:]
        for row in try connection.execute(
            """
            SELECT substr(c.relname, 14), to_date(substr(c.relname, 14), 'YYYYMMDD') - date '1970-01-01'
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'scan_batches'::regclass AND c.relname ~ '^scan_batches_[0-9]{8}$'
            """
        ) {
            if let name = row[0], let day = Int(row[1] ?? "") { existing[day] = name }
        }
        let retention = configuration.archiveDirectory == nil ? nil : configuration.retentionDays
        let plan = PartitionPlan(
            today: today,
            existing: Set(existing.keys),
            ahead: configuration.ahead,
            retentionDays: retention
        )
        var outcome = Outcome()
        for day in plan.create {
            try connection.execute(
                "SELECT ensure_scan_batch_partitions(date '1970-01-01' + $1::integer, 1)",
                ["\(day)"]
            )
            outcome.created.append(day)
        }
        guard let directory = configuration.archiveDirectory else { return outcome }
        for day in plan.archive {
            guard let name = existing[day] else { continue }
            let table = "scan_batches_\(name)"
            let unfolded = try connection.execute("SELECT EXISTS (SELECT 1 FROM \(table) WHERE NOT rolled_up)")
            guard unfolded.first?.first == "f" else {
                outcome.postponed.append(day)
                continue
            }
            try export(table, to: "\(directory)/\(Self.archiveName(day: name))", connection)
            try connection.execute("BEGIN")
            do {
                try connection.execute("ALTER TABLE scan_batches DETACH PARTITION \(table)")
                try connection.execute("DROP TABLE \(table)")
                try connection.execute("COMMIT")
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw error
            }
            outcome.archived.append(day)
        }
        return outcome
    }

    /// Writes a day's batches as text COPY rows (id, codec, first and last scan, payload), durably.
    private func export(_ table: String, to path: String, _ connection: LibPQConnection) throws {
        mkdir((path as NSString).deletingLastPathComponent, 0o755)
        let temporary = path + ".tmp-\(getpid())"
        guard let file = fopen(temporary, "w") else {
            throw StoreError(.copyFailed, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        var written = true
        do {
            _ = try connection.copyOut(
                """
                COPY (SELECT id, codec, (extract(epoch FROM first_scan_at) * 1000)::bigint,
                             (extract(epoch FROM last_scan_at) * 1000)::bigint, payload
                      FROM \(table) ORDER BY id) TO STDOUT
                """
            ) { row in
                if fwrite(row.baseAddress, 1, row.count, file) != row.count { written = false }
            }
        } catch {
            fclose(file)
            unlink(temporary)
            throw error
        }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        fclose(file)
        guard written, flushed, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw StoreError(.copyFailed, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

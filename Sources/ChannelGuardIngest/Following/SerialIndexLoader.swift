import ChannelGuardIndex
import ChannelGuardStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Loads the serial index at start: from its snapshot when the snapshot is sound and current,
/// otherwise by rebuilding from the bindings tables, after which a fresh snapshot replaces the old.
///
/// A snapshot is used only when it loads without error (magic, version, sizes, checksum), was built
/// from this database (`database_identity`) and its watermark equals the database's: a damaged,
/// foreign, stale or differently sharded snapshot is reported with its reason and replaced, never
/// partly trusted. (Two databases loaded alike reach the same watermark: without the identity, a
/// daemon once loaded a neighbour's snapshot, bindings and last sightings included.)
///
/// A snapshot that is sound but stale (bindings changed since it was written) still holds the scan
/// state the tables do not: after the rebuild, every serial still bound takes its sales,
/// activations and last sighting from it (``SerialIndex/carryScanState(from:)``), and its log
/// positions say from where the event log is replayed.
public struct SerialIndexLoader: Sendable {
    /// Where the snapshot lives; `nil` to always rebuild and write none.
    public var snapshotPath: String?
    public var shardCount: Int

    public init(snapshotPath: String?, shardCount: Int) {
        self.snapshotPath = snapshotPath
        self.shardCount = shardCount
    }

    /// How the index was obtained.
    public struct Outcome: Sendable {
        public enum Source: String, Sendable { case snapshot, rebuilt }
        public var source: Source
        /// Why the snapshot was not used (absent, damaged, stale, other shape); `nil` when it was.
        public var snapshotProblem: IndexError?
        public var watermark: UInt64
        /// The database the index describes (``SerialIndexRebuild/databaseIdentity(_:)``).
        public var database: UInt128
        public var keys: Int
        public var seconds: Double
        /// What the rebuild read (when rebuilt).
        public var rebuild: SerialIndexRebuild.Report?
        /// Why a fresh snapshot could not be written (the index is still good).
        public var saveProblem: IndexError?
        /// Per shard, the last batch of the event log whose scans the index's scan state reflects
        /// (``IndexSnapshot/Header/logPositions``); empty when no snapshot told.
        public var logPositions: [UInt64] = []
        /// Entries whose scan state was carried from a stale snapshot into the rebuilt index.
        public var stateCarried = 0
    }

    public func load(_ connection: LibPQConnection, logger: Logger) throws -> (SerialIndex, Outcome) {
        let clock = ContinuousClock()
        let started = clock.now
        let watermark = try SerialIndexRebuild.watermark(connection)
        let database = try SerialIndexRebuild.databaseIdentity(connection)
        var problem: IndexError?
        if let path = snapshotPath {
            do throws(IndexError) {
                let header = try IndexSnapshot.header(at: path)
                guard header.database == database else {
                    throw IndexError(
                        .snapshotForeign,
                        "snapshot was built from database \(String(header.database, radix: 16)); this is \(String(database, radix: 16))"
                    )
                }
                guard header.shardCount == shardCount else {
                    throw IndexError(
                        .snapshotShape,
                        "snapshot has \(header.shardCount) shards; \(shardCount) are configured"
                    )
                }
                guard header.watermark == watermark else {
                    throw IndexError(
                        .snapshotStale,
                        "snapshot reflects change \(header.watermark); the database is at \(watermark)"
                    )
                }
                let (index, loaded) = try IndexSnapshot.load(from: path)
                let outcome = Outcome(
                    source: .snapshot,
                    snapshotProblem: nil,
                    watermark: watermark,
                    database: database,
                    keys: index.count,
                    seconds: Self.seconds(clock.now - started),
                    rebuild: nil,
                    saveProblem: nil,
                    logPositions: loaded.logPositions
                )
                logger.info(
                    "serial index loaded from snapshot",
                    metadata: ["keys": "\(index.count)", "path": "\(path)"]
                )
                return (index, outcome)
            } catch {
                problem = error
                logger.warning(
                    "serial index snapshot not used; rebuilding from the database",
                    metadata: ["reason": "\(error.code)", "detail": "\(error.message)", "path": "\(path)"]
                )
            }
        }
        let (index, report) = try SerialIndexRebuild(shardCount: shardCount).run(connection)
        if report.rejectedRows > 0 {
            logger.warning(
                "binding rows skipped while rebuilding the serial index",
                metadata: ["rows": "\(report.rejectedRows)", "first": "\(report.rejections.first ?? "")"]
            )
        }
        var positions: [UInt64] = []
        var carried = 0
        if let path = snapshotPath, problem?.code == .snapshotStale {
            do throws(IndexError) {
                let (older, header) = try IndexSnapshot.load(from: path)
                carried = try index.carryScanState(from: older)
                positions = header.logPositions
                logger.info(
                    "scan state carried from the stale snapshot into the rebuilt index",
                    metadata: ["entries": "\(carried)"]
                )
            } catch {
                logger.warning(
                    "the stale snapshot's scan state could not be carried over",
                    metadata: ["reason": "\(error.code)", "detail": "\(error.message)"]
                )
            }
        }
        var saveProblem: IndexError?
        if let path = snapshotPath {
            do throws(IndexError) {
                try IndexSnapshot.write(
                    index,
                    to: path,
                    watermark: report.watermark,
                    createdAt: Monotonic.wallMilliseconds(),
                    database: database,
                    logPositions: positions
                )
            } catch {
                saveProblem = error
                logger.error("could not write the serial index snapshot", metadata: ["reason": "\(error)"])
            }
        }
        let outcome = Outcome(
            source: .rebuilt,
            snapshotProblem: problem,
            watermark: report.watermark,
            database: database,
            keys: index.count,
            seconds: Self.seconds(clock.now - started),
            rebuild: report,
            saveProblem: saveProblem,
            logPositions: positions,
            stateCarried: carried
        )
        logger.info(
            "serial index rebuilt from the database",
            metadata: ["keys": "\(index.count)", "serials": "\(report.serials)"]
        )
        return (index, outcome)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

import ArgumentParser
import ChannelGuardIndex
import ChannelGuardIngest
import ChannelGuardStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `channelguard index`: the serial index's tools.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "The serial index: benchmarks, snapshots.",
        subcommands: [IndexBenchCommand.self, IndexBuildCommand.self, IndexCheckCommand.self]
    )
}

/// `channelguard index bench`: the radix index against a `Dictionary`, on one core.
struct IndexBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the radix index against a Dictionary on the same keys.",
        discussion: """
            Builds N keys of the chosen shape, then measures each structure alone in this process: \
            resident memory per key, single lookups/s (keys in random order), batched lookups/s \
            (batches of --batch keys), inserts/s, and for the radix index the snapshot's save time \
            and load rate. Lookup figures are the fastest of --rounds passes. With --json, one JSON \
            object per structure, one per line.
            """
    )

    @Option(help: "Number of keys.") var keys = 1_000_000
    @Option(help: "sequential (printed runs) or random (12–20 random letters and digits).")
    var shape: IndexBenchmark.Shape = .random
    @Option(help: "Index shards.") var shards = 1
    @Option(help: "Passes over the lookups; the fastest counts.") var rounds = 3
    @Option(help: "Keys per batched lookup.") var batch = 1024
    @Option(help: "Directory for the snapshot file.") var snapshotDirectory = "/tmp"
    @Option(help: "Structures to measure, comma-separated: art, dictionary.") var structures = "art,dictionary"
    @Flag(help: "One JSON object per structure.") var json = false

    func validate() throws {
        guard keys > 0, shards > 0, rounds > 0, batch > 0 else { throw ValidationError("counts must be positive") }
        for name in structures.split(separator: ",") where !["art", "dictionary"].contains(name) {
            throw ValidationError("unknown structure \(name) (art, dictionary)")
        }
    }

    func run() throws {
        var benchmark = IndexBenchmark(keys: keys, shape: shape)
        benchmark.shards = shards
        benchmark.rounds = rounds
        benchmark.batchSize = batch
        benchmark.snapshotDirectory = snapshotDirectory
        benchmark.structures = Set(structures.split(separator: ",").map(String.init))
        if !json { benchmark.report = { print($0) } }
        for result in try benchmark.run() {
            if json {
                print(result.json)
            } else {
                print(
                    """
                    \(result.structure): \(result.keys) \(result.shape.rawValue) keys, \
                    \(Self.fixed(result.bytesPerKey, 1)) B/key resident \
                    (\(Self.fixed(result.allocatedBytesPerKey, 1)) allocated), \
                    lookups \(Self.millions(result.lookupsPerSecond)) M/s, \
                    batched \(Self.millions(result.batchedLookupsPerSecond)) M/s, \
                    inserts \(Self.millions(result.insertsPerSecond)) M/s\
                    \(result.snapshotSaveSeconds.map { ", snapshot save \(Self.fixed($0, 2)) s" } ?? "")\
                    \(result.snapshotLoadKeysPerSecond.map { ", load \(Self.millions($0)) M keys/s" } ?? "")
                    """
                )
            }
        }
    }

    static func millions(_ rate: Double) -> String { fixed(rate / 1e6, 2) }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = String(scaled / Int(scale))
        let fraction = String(abs(scaled % Int(scale)))
        return digits == 0 ? whole : whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}

extension IndexBenchmark.Shape: ExpressibleByArgument {}

/// `channelguard index build`: load the index the way the daemon does at start (snapshot, or rebuild
/// from the bindings tables and write a fresh snapshot) and report what happened.
struct IndexBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Load the serial index (snapshot or rebuild) and refresh its snapshot.",
        discussion: """
            Uses the snapshot when it is sound and current (its watermark equals the database's \
            binding change sequence); otherwise says why, rebuilds from the bindings tables with \
            COPY, and writes a new snapshot atomically. --rebuild skips the snapshot.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Snapshot file.") var snapshot = ".channelguard/serial-index.snapshot"
    @Option(help: "Index shards.") var shards = 1
    @Flag(help: "Rebuild even when the snapshot is current.") var rebuild = false

    func run() async throws {
        let path = snapshot
        let shards = shards
        let rebuild = rebuild
        let outcome = try await database.resolve().withDatabase { url in
            try await withLibPQ(url) { connection in
                if rebuild { unlink(path) }
                let logger = Logger(label: "channelguard.index")
                return try SerialIndexLoader(snapshotPath: path, shardCount: shards).load(connection, logger: logger).1
            }
        }
        if let problem = outcome.snapshotProblem { print("snapshot not used: \(problem)") }
        if let report = outcome.rebuild {
            print(
                "rebuilt from the database: \(report.serials) serials, \(report.ranges) ranges, \(report.cartons) cartons, \(report.rejectedRows) rows rejected"
            )
            for rejection in report.rejections { print("  rejected: \(rejection)") }
        }
        if outcome.stateCarried > 0 {
            print("scan state of \(outcome.stateCarried) entries carried over from the stale snapshot")
        }
        if let problem = outcome.saveProblem { print("snapshot not written: \(problem)") }
        print(
            "\(outcome.source.rawValue): \(outcome.keys) keys at watermark \(outcome.watermark) in \(IndexBenchCommand.fixed(outcome.seconds, 3)) s"
        )
    }
}

/// `channelguard index check`: verify a snapshot file without using it.
struct IndexCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a serial index snapshot: header, sizes, structure, checksum.",
        discussion: "Exit status 0 when the snapshot is sound, 1 (with the reason code) when not."
    )

    @Argument(help: "Snapshot file.") var path: String

    func run() throws {
        do throws(IndexError) {
            let (index, header) = try IndexSnapshot.load(from: path)
            print(
                "ok: \(header.keyCount) keys in \(header.shardCount) shards, watermark \(header.watermark), \(index.bytesUsed) bytes of nodes and leaves"
            )
        } catch {
            print("bad snapshot: \(error)")
            throw ExitCode(1)
        }
    }
}

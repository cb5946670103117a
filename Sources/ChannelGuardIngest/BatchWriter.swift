import ChannelGuardCodes
import ChannelGuardStore
import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes one pipeline shard's flush jobs to PostgreSQL, in order, on a thread of its own: encode,
/// compress, one transaction each. A failed transaction is retried (reconnecting, with backoff)
/// until it commits; jobs behind it wait, so commits — and acknowledgements — stay in order.
public final class BatchWriter: Sendable {
    /// What a commit reports back.
    public struct Commit: Sendable {
        public var batchID: Int64
        public var events: Int
        public var alerts: Int
        public var payloadBytes: Int
        public var rawBytes: Int
        /// Nanoseconds from the oldest event's arrival to the commit.
        public var oldestWaitNanoseconds: UInt64
        /// Nanoseconds the transaction took.
        public var transactionNanoseconds: UInt64
    }

    let shard: Int
    let url: DatabaseURL
    let node: String
    let compressionLevel: Int32
    let logger: Logger
    private let pool: NIOThreadPool
    private let pending = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let connection = Mutex<ConnectionBox>(ConnectionBox())
    private let onCommit: @Sendable (FlushJob, Commit) -> Void

    /// Jobs submitted and not yet committed.
    public var depth: Int { pending.load(ordering: .relaxed) }
    /// Transactions that failed and were retried.
    public var failedAttempts: Int { failures.load(ordering: .relaxed) }

    public init(
        shard: Int,
        url: DatabaseURL,
        node: String,
        compressionLevel: Int32 = 1,
        logger: Logger,
        onCommit: @escaping @Sendable (FlushJob, Commit) -> Void
    ) {
        self.shard = shard
        self.url = url
        self.node = node
        self.compressionLevel = compressionLevel
        self.logger = logger
        self.onCommit = onCommit
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// Queues a job; it commits after every job submitted before it.
    public func submit(_ job: FlushJob) {
        pending.add(1, ordering: .relaxed)
        pool.submit { [self] _ in
            write(job)
            pending.subtract(1, ordering: .relaxed)
        }
    }

    /// Waits until every queued job has committed, then stops the thread.
    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }

    private func write(_ job: FlushJob) {
        let started = Monotonic.now()
        let raw = job.eventCount > 0 ? ScanLogFormat.payload(job.parts) : []
        let payload: [UInt8]
        do {
            payload = try job.eventCount > 0 ? ZstdCodec.compress(raw, level: compressionLevel) : []
        } catch {
            // zstd fails only on memory exhaustion; store the batch uncompressed rather than lose it.
            logger.error("zstd compression failed; storing uncompressed", metadata: ["error": "\(error)"])
            payload = raw
        }
        var delay: UInt32 = 50_000
        var id: Int64 = 0
        while true {
            do {
                let connection = try connection.withLock { box in
                    if let open = box.connection { return open }
                    let opened = try LibPQConnection(url: url)
                    box.connection = opened
                    return opened
                }
                id = try FlushTransaction.store(
                    job,
                    payload: payload,
                    rawBytes: raw.count,
                    node: node,
                    flushedAt: Monotonic.wallMilliseconds(),
                    connection: connection
                )
                break
            } catch {
                failures.add(1, ordering: .relaxed)
                connection.withLock { $0.connection = nil }
                logger.warning(
                    "batch not stored; retrying",
                    metadata: ["shard": "\(shard)", "events": "\(job.eventCount)", "error": "\(error)"]
                )
                usleep(delay)
                delay = min(delay * 2, 2_000_000)
            }
        }
        let now = Monotonic.now()
        onCommit(
            job,
            Commit(
                batchID: id,
                events: job.eventCount,
                alerts: job.alerts.count,
                payloadBytes: payload.count,
                rawBytes: raw.count,
                oldestWaitNanoseconds: job.oldestArrival == 0 ? 0 : now &- job.oldestArrival,
                transactionNanoseconds: now &- started
            )
        )
    }
}

/// The writer's connection; touched only by the writer's own thread (the mutex is uncontended).
private final class ConnectionBox: @unchecked Sendable {
    var connection: LibPQConnection?
}

/// Clocks for latencies and timestamps.
public enum Monotonic {
    /// Monotonic nanoseconds.
    @inline(__always)
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// Unix milliseconds.
    public static func wallMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

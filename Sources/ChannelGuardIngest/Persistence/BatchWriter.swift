import ChannelGuardCodes
import ChannelGuardStore
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes one pipeline shard's flush jobs to PostgreSQL, in order, on a thread of its own: encode,
/// compress, one transaction each. A failed transaction is retried (reconnecting, with backoff)
/// until it commits; the jobs behind it wait, so commits — and acknowledgements — stay in order.
///
/// When more than `maximumQueued` jobs wait (the database is slow or down), later jobs go to the
/// shard's ``BatchSpool`` on local disk instead of memory, and the spool drains in order once the
/// database answers; while anything is spooled, new jobs join the spool behind it. A writer asked
/// to stop while the database is down spools what it holds, and the next start drains it first.
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

    typealias Acks = [AckKey: (sink: any AckSink, sequence: UInt64)]
    /// What is told of a job taken and then not stored: its frames and the connections waiting.
    public typealias LostHandler =
        @Sendable (_ frames: [TakenFrame], _ acks: [AckKey: (sink: any AckSink, sequence: UInt64)]) -> Void

    let shard: Int
    let url: DatabaseURL
    let node: String
    let compressionLevel: Int32
    let maximumQueued: Int
    let logger: Logger
    private let pool: NIOThreadPool
    private let pending = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let state: Mutex<State>
    private let onCommit: @Sendable (Acks, Commit) -> Void
    private let onLost = Mutex<LostHandler?>(nil)
    /// The id of the last batch this writer committed (or the position it started from).
    private let lastBatch = Atomic<Int64>(0)

    /// A record spooled in this run: where it ends, who waits for it, the frames it holds.
    private struct Spooled {
        var end: Int64
        var acks: Acks
        var arrival: UInt64
        var frames: [TakenFrame]
    }

    /// The writer's connection and spool; the connection is used only by the writer's thread.
    private final class State: @unchecked Sendable {
        var connection: LibPQConnection?
        var spool: BatchSpool?
        /// Records spooled in this run whose frames wait for acknowledgement: where each ends.
        var spooledAcks: [Spooled] = []
        var spooledRecords = 0
        init(spool: BatchSpool?) { self.spool = spool }
    }

    /// Jobs waiting: in memory and in the spool.
    public var depth: Int { pending.load(ordering: .relaxed) + state.withLock { $0.spooledRecords } }
    /// Transactions that failed and were retried.
    public var failedAttempts: Int { failures.load(ordering: .relaxed) }
    /// Bytes in the spool.
    public var spoolBytes: Int { state.withLock { Int($0.spool?.pendingBytes ?? 0) } }

    public init(
        shard: Int,
        url: DatabaseURL,
        node: String,
        compressionLevel: Int32 = 1,
        maximumQueued: Int = 64,
        spoolPath: String? = nil,
        logger: Logger,
        onCommit:
            @escaping @Sendable (_ acks: [AckKey: (sink: any AckSink, sequence: UInt64)], Commit) -> Void
    ) throws {
        self.shard = shard
        self.url = url
        self.node = node
        self.compressionLevel = compressionLevel
        self.maximumQueued = maximumQueued
        self.logger = logger
        self.onCommit = onCommit
        let spool = try spoolPath.map { path throws(IngestError) in try BatchSpool(path: path) }
        state = Mutex(State(spool: spool))
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// The id of the last batch committed, or the position given at start if none since.
    public var lastBatchID: Int64 { lastBatch.load(ordering: .relaxed) }

    /// Where the shard's log stood at start (the last batch its state reflects).
    public func start(at position: Int64) {
        lastBatch.store(max(lastBatch.load(ordering: .relaxed), position), ordering: .relaxed)
    }

    /// The log position of everything submitted so far: queued behind every job submitted before
    /// it, it answers the last batch id once they have committed — `nil` while anything waits in
    /// the spool (its batches are not stored yet) or when the writer is stopping.
    public func checkpointPosition(on loop: any EventLoop) -> EventLoopFuture<Int64?> {
        pool.runIfActive(eventLoop: loop) { [self] in
            state.withLock { $0.spool?.isEmpty ?? true } ? lastBatch.load(ordering: .relaxed) : nil
        }
    }

    /// Where jobs taken and then not stored are reported (the shard forgets their frames).
    public func whenLost(_ handler: @escaping LostHandler) {
        onLost.withLock { $0 = handler }
    }

    private func lost(_ frames: [TakenFrame], _ acks: Acks) {
        guard !frames.isEmpty || !acks.isEmpty else { return }
        onLost.withLock { $0 }?(frames, acks)
    }

    /// Queues a job; it commits after every job submitted before it.
    public func submit(_ job: FlushJob) {
        let spill = state.withLock { state in
            guard let spool = state.spool else { return false }
            return !spool.isEmpty || pending.load(ordering: .relaxed) >= maximumQueued
        }
        if spill {
            do {
                try spoolJob(
                    StoredBatch(job, compressionLevel: compressionLevel),
                    acks: job.acks,
                    arrival: job.oldestArrival,
                    frames: job.frames
                )
                pool.submit { [self] _ in drainSpool() }
                return
            } catch {
                logger.error("cannot spool a batch; keeping it in memory", metadata: ["error": "\(error)"])
            }
        }
        pending.add(1, ordering: .relaxed)
        pool.submit { [self] _ in
            write(job)
            pending.subtract(1, ordering: .relaxed)
        }
    }

    /// Commits whatever an earlier run left in the spool (before listeners open).
    public func drainLeftovers() async throws {
        try await pool.runIfActive { [self] in drainSpool() }
    }

    /// Waits until every queued job has committed (or, with the database down, been spooled), then
    /// stops the thread.
    public func shutdown() async throws {
        stopping.store(true, ordering: .relaxed)
        try await pool.shutdownGracefully()
    }

    private func spoolJob(
        _ batch: StoredBatch,
        acks: Acks,
        arrival: UInt64,
        frames: [TakenFrame]
    ) throws(IngestError) {
        try state.withLock { state throws(IngestError) in
            guard let spool = state.spool else { throw IngestError(.spoolFailed, "no spool configured") }
            try spool.append(batch.encoded)
            state.spooledRecords += 1
            if !acks.isEmpty || arrival != 0 || !frames.isEmpty {
                state.spooledAcks.append(Spooled(end: spool.writeOffset, acks: acks, arrival: arrival, frames: frames))
            }
        }
    }

    private func write(_ job: FlushJob) {
        let started = Monotonic.now()
        let batch: StoredBatch
        do {
            batch = try StoredBatch(job, compressionLevel: compressionLevel)
        } catch {
            logger.critical("zstd cannot compress a batch", metadata: ["error": "\(error)"])
            lost(job.frames, job.acks)
            return
        }
        guard
            let id = commit(batch, spoolOnStop: true, acks: job.acks, arrival: job.oldestArrival, frames: job.frames)
        else { return }
        report(id, batch, acks: job.acks, arrival: job.oldestArrival, started: started)
    }

    /// Commits every spooled record, in order.
    private func drainSpool() {
        while let (body, end) = state.withLock({ $0.spool?.next() }) {
            let started = Monotonic.now()
            guard let batch = StoredBatch(decoding: body) else {
                logger.error("unreadable spool record skipped", metadata: ["shard": "\(shard)", "end": "\(end)"])
                for entry in release(through: end) { lost(entry.frames, entry.acks) }
                continue
            }
            guard let id = commit(batch, spoolOnStop: false, acks: [:], arrival: 0, frames: []) else { return }
            let released = release(through: end)
            for entry in released { report(id, batch, acks: entry.acks, arrival: entry.arrival, started: started) }
            if released.isEmpty { report(id, batch, acks: [:], arrival: 0, started: started) }
        }
    }

    /// Marks the spool committed through `end` and returns the records of this run that ended there.
    private func release(through end: Int64) -> [Spooled] {
        state.withLock { state in
            state.spool?.committed(through: end)
            state.spooledRecords = max(0, state.spooledRecords - 1)
            let count = state.spooledAcks.prefix { $0.end <= end }.count
            defer { state.spooledAcks.removeFirst(count) }
            return Array(state.spooledAcks.prefix(count))
        }
    }

    /// Retries until the batch commits; returns its id. When the writer is stopping and the
    /// database still fails, an in-memory batch goes to the spool instead (`nil`).
    private func commit(
        _ batch: StoredBatch,
        spoolOnStop: Bool,
        acks: Acks,
        arrival: UInt64,
        frames: [TakenFrame]
    ) -> Int64? {
        var delay: UInt32 = 50_000
        while true {
            do {
                let connection = try state.withLock { state throws(StoreError) -> LibPQConnection in
                    if let open = state.connection { return open }
                    let opened = try LibPQConnection(url: url)
                    state.connection = opened
                    return opened
                }
                return try FlushTransaction.store(
                    batch,
                    node: node,
                    flushedAt: Monotonic.wallMilliseconds(),
                    connection: connection
                )
            } catch {
                failures.add(1, ordering: .relaxed)
                state.withLock { $0.connection = nil }
                if stopping.load(ordering: .relaxed) {
                    if spoolOnStop, (try? spoolJob(batch, acks: acks, arrival: arrival, frames: frames)) != nil {
                        logger.warning(
                            "database unavailable at shutdown; batch spooled",
                            metadata: ["shard": "\(shard)"]
                        )
                        return nil
                    }
                    if !spoolOnStop { return nil }  // stays in the spool for the next start
                }
                logger.warning(
                    "batch not stored; retrying",
                    metadata: ["shard": "\(shard)", "events": "\(batch.eventCount)", "error": "\(error)"]
                )
                usleep(delay)
                delay = min(delay * 2, 1_000_000)
            }
        }
    }

    private func report(_ id: Int64, _ batch: StoredBatch, acks: Acks, arrival: UInt64, started: UInt64) {
        if id > 0 { lastBatch.store(id, ordering: .relaxed) }
        let now = Monotonic.now()
        onCommit(
            acks,
            Commit(
                batchID: id,
                events: batch.eventCount,
                alerts: batch.alerts.count,
                payloadBytes: batch.payload.count,
                rawBytes: batch.rawBytes,
                oldestWaitNanoseconds: arrival == 0 ? 0 : now &- arrival,
                transactionNanoseconds: now &- started
            )
        )
    }
}

import ChannelGuardDetection
import ChannelGuardIndex
import ChannelGuardStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The ingest daemon as a service: loads the serial index (snapshot or rebuild) and the reference
/// data, starts one pipeline shard and one writer per core, then opens the UDP and TCP listeners.
/// On graceful shutdown it closes the listeners, flushes every shard, waits for the writers to
/// commit (and so acknowledge) everything, writes a snapshot and returns.
public final class IngestService: Service, Sendable {
    /// Where the listeners ended up (ports chosen when 0 was asked for).
    public struct Addresses: Sendable {
        public var udp: [SocketAddress]
        public var tcp: SocketAddress?
    }

    let configuration: IngestConfiguration
    let url: DatabaseURL
    let logger: Logger
    public let stats = PipelineStats()
    private let onListening: @Sendable (Addresses) -> Void
    private let onAlertsStored: @Sendable () -> Void
    private let running = Mutex<Running?>(nil)
    private let bindingFollower = Mutex<BindingFollower?>(nil)

    /// The parts that exist while the service runs.
    final class Running: Sendable {
        let index: SerialIndex
        let shards: [PipelineShard]
        let writers: [BatchWriter]
        let reference: ReferenceDataStore

        init(index: SerialIndex, shards: [PipelineShard], writers: [BatchWriter], reference: ReferenceDataStore) {
            self.index = index
            self.shards = shards
            self.writers = writers
            self.reference = reference
        }
    }

    /// - Parameters:
    ///   - onListening: Called once the listeners are open, with their addresses.
    ///   - onAlertsStored: Called on a writer's thread after each commit that stored alerts (the
    ///     live feed of the same process reads them at once).
    public init(
        configuration: IngestConfiguration,
        url: DatabaseURL,
        logger: Logger,
        onListening: @escaping @Sendable (Addresses) -> Void = { _ in },
        onAlertsStored: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.url = url
        self.logger = logger
        self.onAlertsStored = onAlertsStored
        self.onListening = onListening
    }

    /// Jobs waiting for the database, over all shards.
    public var queuedJobs: Int { running.withLock { $0?.writers.reduce(0) { $0 + $1.depth } ?? 0 } }

    /// Batch transactions that failed and were retried, over all writers.
    public var failedTransactions: Int { running.withLock { $0?.writers.reduce(0) { $0 + $1.failedAttempts } ?? 0 } }

    /// The reference-change sequence the pipeline checks against.
    public var referenceVersion: Int64 { running.withLock { $0?.reference.current.version ?? 0 } }

    /// The binding-change sequence the running index reflects.
    public var bindingsApplied: Int64 { bindingFollower.withLock { $0?.applied.load(ordering: .relaxed) ?? 0 } }

    /// Bytes in the shards' spools.
    public var spoolBytes: Int { running.withLock { $0?.writers.reduce(0) { $0 + $1.spoolBytes } ?? 0 } }

    /// Keys in the serial index.
    public var indexKeys: Int { running.withLock { $0?.index.count ?? 0 } }

    public func run() async throws {
        let shardCount = configuration.pipeline.shards
        let snapshotPath = configuration.snapshotPath
        let logger = logger
        let keeper = PartitionKeeper(configuration: configuration.partitions)
        let loaded = try await withLibPQ(url) { connection in
            _ = try keeper.run(connection)
            let (index, outcome) = try SerialIndexLoader(snapshotPath: snapshotPath, shardCount: shardCount)
                .load(connection, logger: logger)
            let (reference, skipped) = try ReferenceData.load(connection)
            for problem in skipped.prefix(10) {
                logger.warning("reference row skipped", metadata: ["row": "\(problem)"])
            }
            return UncheckedBox((index, outcome.watermark, outcome.database, reference, outcome.logPositions))
        }
        let (index, watermark, database, referenceData, logPositions) = loaded.value
        let reference = ReferenceDataStore(referenceData)
        // One event loop per shard, shared with the listeners: the events a read brings for the
        // shard of its own loop are checked in place, and only the others cross to another thread.
        // With separate network loops every read woke a shard thread: on two cores, TCP frames at
        // full speed went from 0.93 and 1.13 to 1.18 and 1.19 million events/s (30 s runs side by
        // side, docs/performance.md).
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: shardCount)
        let stats = stats
        let onAlertsStored = onAlertsStored
        if let directory = configuration.spoolDirectory { mkdir(directory, 0o700) }
        // Before the writers: batches drained from a spool at start announce their alerts too.
        let announcer = AlertAnnouncer(url: url, logger: logger, stats: stats)
        defer { announcer.requestStop() }  // when starting fails; a clean stop has stopped it already
        // Writers first: what an earlier run spooled is committed before offsets are read.
        var writers: [BatchWriter] = []
        for number in 0..<shardCount {
            let writer = try BatchWriter(
                shard: number,
                url: url,
                node: configuration.node,
                compressionLevel: configuration.pipeline.compressionLevel,
                maximumQueued: configuration.pipeline.maximumQueuedJobs,
                spoolPath: configuration.spoolDirectory.map { "\($0)/shard-\(number).spool" },
                logger: logger
            ) { acks, commit in
                stats.stored.add(commit.events)
                stats.flushes.add(1)
                stats.payloadBytes.add(commit.payloadBytes)
                stats.rawBytes.add(commit.rawBytes)
                stats.flushDuration.record(nanoseconds: commit.transactionNanoseconds)
                if commit.oldestWaitNanoseconds > 0 {
                    stats.batchWait.record(nanoseconds: commit.oldestWaitNanoseconds)
                }
                for (key, ack) in acks {
                    ack.sink.committed(shard: number, gateway: key.gateway, through: ack.sequence)
                }
                if commit.alerts > 0 {
                    announcer.stored(batch: commit.batchID)
                    onAlertsStored()
                }
            }
            try await writer.drainLeftovers()
            writers.append(writer)
        }
        let accepted = try await withLibPQ(url) { connection in
            var accepted = [[UInt32: UInt64]](repeating: [:], count: shardCount)
            for row in try connection.execute("SELECT gateway_id, stream_id, last_sequence FROM gateway_offsets") {
                guard let gateway = UInt32(row[0] ?? ""), let stream = Int(row[1] ?? ""),
                    let last = UInt64(row[2] ?? "")
                else { continue }
                if stream < shardCount {
                    accepted[stream][gateway] = last
                } else {
                    logger.warning(
                        "gateway offsets of a shard this node does not have; resent frames of that shard may count again",
                        metadata: ["gateway": "\(gateway)", "stream": "\(stream)"]
                    )
                }
            }
            return accepted
        }
        var shards: [PipelineShard] = []
        for number in 0..<shardCount {
            let shard = PipelineShard(
                number: number,
                loop: loops.next(),
                index: index,
                reference: reference,
                rules: ScanRules(),
                stats: stats,
                configuration: configuration.pipeline,
                accepted: accepted[number]
            )
            shard.writer = writers[number]
            writers[number].whenLost { [shard] frames, acks in
                // Forgotten on the shard's loop before the gateways are told (their connections
                // closed), so that what they resend is taken.
                shard.loop.execute {
                    shard.forget(frames)
                    var told: Set<ObjectIdentifier> = []
                    for (key, ack) in acks where told.insert(key.connection).inserted { ack.sink.lost() }
                }
            }
            shard.announcer = announcer
            shards.append(shard)
        }
        // The scan state as the log left it, then a checkpoint of it before anything new arrives.
        let reached = try await replayLog(shards: shards, positions: logPositions, logger: logger)
        for (writer, position) in zip(writers, reached) { writer.start(at: position) }
        if let path = snapshotPath {
            do {
                _ = try await checkpoint(
                    index: index,
                    shards: shards,
                    writers: writers,
                    watermark: watermark,
                    path: path,
                    database: database
                )
            } catch {
                logger.error("could not write the first checkpoint", metadata: ["error": "\(error)"])
            }
        }
        let timers = shards.map { shard in
            shard.loop.scheduleRepeatedTask(initialDelay: .milliseconds(2), delay: .milliseconds(2)) { _ in shard.tick()
            }
        }
        let state = Running(index: index, shards: shards, writers: writers, reference: reference)
        running.withLock { $0 = state }

        let listeners = try await openListeners(state, group: loops)
        onListening(listeners.addresses)
        logger.info(
            "ingest listening",
            metadata: [
                "tcp": "\(listeners.addresses.tcp.map { "\($0)" } ?? "off")",
                "udp": "\(listeners.addresses.udp.map { "\($0)" })", "shards": "\(shardCount)",
                "indexKeys": "\(index.count)",
            ]
        )

        let referenceListener = ReferenceFollower(url: url, store: reference, logger: logger).start()
        let bindings = BindingFollower(
            url: url,
            index: index,
            shards: shards,
            watermark: watermark,
            logger: logger,
            stats: stats
        )
        let bindingListener = bindings.start()
        bindingFollower.withLock { $0 = bindings }
        let (everyShard, everyWriter) = (shards, writers)
        let checkpointer = snapshotPath.map { path in
            Task {
                await checkpointEvery(
                    index: index,
                    shards: everyShard,
                    writers: everyWriter,
                    bindings: bindings,
                    path: path,
                    database: database
                )
            }
        }
        let partitionKeeper = Task { await keepPartitions() }
        let folder = Task { await foldRollups(until: { Task.isCancelled }) }
        let incidentFolder = Task { await foldIncidents(until: { Task.isCancelled }) }
        // Runs until the service group shuts down gracefully (or the task is cancelled).
        try? await gracefulShutdown()
        await referenceListener.stop()
        await bindingListener.stop()
        checkpointer?.cancel()
        _ = await checkpointer?.value
        partitionKeeper.cancel()
        _ = await partitionKeeper.value

        // Stop taking events, then store everything taken.
        for channel in listeners.channels { try? await channel.close() }
        for (shard, timer) in zip(shards, timers) {
            timer.cancel()
            try? await shard.submit { shard.flush() }.get()
        }
        for writer in writers { try? await writer.shutdown() }
        await announcer.stop()
        folder.cancel()
        incidentFolder.cancel()
        _ = await folder.value
        _ = await incidentFolder.value
        await foldRollups(until: { true })
        await foldIncidents(until: { true })
        if let path = snapshotPath {
            let logger = logger
            try? await loops.next().submit {
                do {
                    // The changes the follower applied are in the index; a change it could not
                    // apply keeps the older watermark, so the next start rebuilds.
                    try IndexSnapshot.write(
                        index,
                        to: path,
                        watermark: bindings.snapshotWatermark,
                        createdAt: Monotonic.wallMilliseconds(),
                        database: database,
                        logPositions: writers.map { UInt64(max(0, $0.lastBatchID)) }
                    )
                } catch {
                    logger.error("could not write the index snapshot at shutdown", metadata: ["error": "\(error)"])
                }
            }.get()
        }
        running.withLock { $0 = nil }
        try? await loops.shutdownGracefully()
        logger.info("ingest stopped", metadata: ["stored": "\(stats.stored.count)"])
    }

    /// Runs the partition keeper every hour until cancelled (at start it ran before the listeners).
    private func keepPartitions() async {
        let keeper = PartitionKeeper(configuration: configuration.partitions)
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(3600))
                let outcome = try await withLibPQ(url) { try keeper.run($0) }
                if !outcome.created.isEmpty || !outcome.archived.isEmpty || !outcome.postponed.isEmpty {
                    logger.info(
                        "event log partitions kept",
                        metadata: [
                            "created": "\(outcome.created.count)", "archived": "\(outcome.archived.count)",
                            "postponed": "\(outcome.postponed.count)",
                        ]
                    )
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("could not keep the event log partitions", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Folds stored rollup deltas into `scan_rollups_hourly` every `rollupFoldNanoseconds` (30 s)
    /// until `stop` says so, and always once more (everything waiting) before returning.
    private func foldRollups(until stop: @escaping @Sendable () -> Bool) async {
        // In the background: seconds of CPU every fold at high rates, which should yield to the scans.
        let session = LibPQSession(url: url, background: true)
        while true {
            let finalPass = stop()
            do {
                while true {
                    var folder = RollupFolder()
                    folder.busyShare = configuration.pipeline.rollupFoldBusyShare
                    folder.hurry = stop  // true on the final pass: no pauses then
                    let started = Monotonic.now()
                    let fold = try await session.run { [folder] in try folder.fold($0) }
                    if fold.batches > 0 { noteFold(fold, nanoseconds: Monotonic.now() &- started) }
                    if !fold.unreadable.isEmpty {
                        logger.error(
                            "unreadable rollup deltas skipped",
                            metadata: ["batches": "\(fold.unreadable.prefix(10))"]
                        )
                    }
                    if fold.batches < folder.batchesPerFold { break }
                }
            } catch is CancellationError {
                // Stopping: the final pass folds what is left.
            } catch {
                logger.warning("rollup fold failed; retrying", metadata: ["error": "\(error)"])
            }
            if finalPass {
                await session.close()
                return
            }
            try? await Task.sleep(for: .nanoseconds(configuration.pipeline.rollupFoldNanoseconds))
        }
    }

    /// Counts a fold that applied batches and logs it: at high rates a fold is seconds of work
    /// beside the scans, and its times are what to line a latency tail up against.
    private func noteFold(_ fold: RollupFolder.Fold, nanoseconds: UInt64) {
        stats.rollupFolds.add(1)
        stats.rollupFoldBatches.add(fold.batches)
        stats.rollupFoldCells.add(fold.cells)
        stats.rollupFoldDuration.record(nanoseconds: nanoseconds)
        logger.info(
            "rollup fold",
            metadata: [
                "batches": "\(fold.batches)", "cells": "\(fold.cells)",
                "seconds": "\(Double(nanoseconds / 1_000_000) / 1000)",
            ]
        )
    }

    /// Folds stored alerts into incidents a few times a second until `stop` says so, and once more
    /// before returning. Outside the flush transaction, so incident work never delays an alert.
    private func foldIncidents(until stop: @escaping @Sendable () -> Bool) async {
        let session = LibPQSession(url: url)
        while true {
            let finalPass = stop()
            do {
                while try await session.run({ connection in
                    Int(try connection.execute("SELECT fold_alerts_into_incidents(5000)")[0][0] ?? "0") ?? 0
                }) >= 5000 {}
            } catch is CancellationError {
                // Stopping: the final pass folds what is left.
            } catch {
                logger.warning("incident fold failed; retrying", metadata: ["error": "\(error)"])
            }
            if finalPass { return }
            try? await Task.sleep(for: .nanoseconds(configuration.pipeline.incidentFoldNanoseconds))
        }
    }

    /// Whether any writer is too far behind: TCP reading pauses until it catches up.
    func isCongested(_ state: Running) -> Bool {
        let limit = configuration.pipeline.maximumQueuedJobs
        return state.writers.contains { $0.depth > limit }
    }
}

/// Carries a value across an isolation boundary that the compiler cannot see is safe (a value
/// built on one thread and handed over whole, never shared).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

import ChannelGuardCodes
import ChannelGuardIndex
import ChannelGuardStore
import Logging
import NIOCore
import NIOPosix

/// Per-serial scan state that survives a crash: checkpoints of the index with each shard's log
/// position, and the event log replayed after those positions at start.
///
/// A checkpoint flushes each shard and copies its slice of the index on the shard's own loop, in
/// the same task asks the shard's writer for the position of everything submitted so far (the
/// answer comes once those jobs have committed), and writes the copies as the snapshot with those
/// positions. At start the daemon replays, shard by shard, this node's batches after the positions
/// (``PipelineShard/replay(_:gateways:)``: state only), so the rules then judge as if it had never
/// stopped. Frames not committed before a crash were never acknowledged: their gateways resend them.
extension IngestService {
    /// Applies this node's stored batches after each shard's position; returns the position each
    /// shard's state now reflects. Positions unknown (no snapshot said) start at the log's end:
    /// the scan state of earlier batches is not known (and is said so in the log).
    func replayLog(
        shards: [PipelineShard],
        positions: [UInt64],
        logger: Logger
    ) async throws -> [Int64] {
        let node = configuration.node
        let known = positions.count == shards.count
        let (reached, replayed, failures) = try await withLibPQ(url) { connection in
            var reached: [Int64] = []
            var replayed = (batches: 0, events: 0)
            var failures: [String] = []
            for (number, shard) in shards.enumerated() {
                let stream = ScanLog.Stream(node: node, shard: number)
                let stored = try connection.execute(
                    "SELECT coalesce(max(id), 0) FROM scan_batches WHERE node = $1 AND shard = $2::smallint",
                    [node, "\(number)"]
                )
                let end = Int64(stored.first?.first.flatMap { $0 } ?? "0") ?? 0
                guard known, positions[number] != IndexSnapshot.unknownPosition else {
                    reached.append(end)
                    continue
                }
                var position = Int64(clamping: positions[number])
                failures += try ScanLog.replay(connection, ids: (position + 1)...Int64.max, stream: stream) {
                    batch,
                    id,
                    gateways in
                    try shard.submit { shard.replay(batch, gateways: gateways) }.wait()
                    position = max(position, id)
                    replayed.batches += 1
                    replayed.events += batch.count
                }
                reached.append(max(position, end))
            }
            return (reached, replayed, failures)
        }
        if !known {
            logger.info("no log positions in the snapshot: scan state starts from the end of the event log")
        } else if replayed.batches > 0 {
            logger.info(
                "event log replayed into the scan state",
                metadata: ["batches": "\(replayed.batches)", "events": "\(replayed.events)"]
            )
        }
        for failure in failures.prefix(10) {
            logger.error("a stored batch could not be replayed", metadata: ["batch": "\(failure)"])
        }
        return reached
    }

    /// Writes one checkpoint; `false` when it could not be taken now (a writer's spool holds
    /// batches not yet stored, or the writers are stopping). Each shard is paused for one copy of
    /// its slice (a `memcpy` of about 38 bytes a key).
    func checkpoint(
        index: SerialIndex,
        shards: [PipelineShard],
        writers: [BatchWriter],
        watermark: UInt64,
        path: String,
        database: UInt128
    ) async throws -> Bool {
        var copies: [IndexShard] = []
        var positions: [UInt64] = []
        for (shard, writer) in zip(shards, writers) {
            let taken = try await shard.submit { () throws -> UncheckedBox<(IndexShard, EventLoopFuture<Int64?>)> in
                // The open job goes to the writer, and the position is asked right behind it in
                // the same task: a job flushed after the copy cannot slip in before the question.
                shard.flush()
                let position = writer.checkpointPosition(on: shard.loop)
                return UncheckedBox((try index.copyShard(shard.number), position))
            }.get()
            guard let position = try await taken.value.1.get() else { return false }
            copies.append(taken.value.0)
            positions.append(UInt64(max(0, position)))
        }
        let snapshot = UncheckedBox(try SerialIndex(copies: copies))
        let box = UncheckedBox(positions)
        try await NIOThreadPool.singleton.runIfActive {
            try IndexSnapshot.write(
                snapshot.value,
                to: path,
                watermark: watermark,
                createdAt: Monotonic.wallMilliseconds(),
                database: database,
                logPositions: box.value,
                pacing: IndexSnapshot.Pacing()
            )
        }
        stats.checkpoints.add(1)
        return true
    }

    /// Checkpoints every ``IngestConfiguration/checkpointInterval`` until cancelled.
    func checkpointEvery(
        index: SerialIndex,
        shards: [PipelineShard],
        writers: [BatchWriter],
        bindings: BindingFollower,
        path: String,
        database: UInt128
    ) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.checkpointInterval)
                // The watermark first: every copy taken after it reflects at least that change.
                let taken = try await checkpoint(
                    index: index,
                    shards: shards,
                    writers: writers,
                    watermark: bindings.snapshotWatermark,
                    path: path,
                    database: database
                )
                if !taken { logger.info("checkpoint skipped: batches wait in the spool") }
            } catch is CancellationError {
                return
            } catch {
                logger.error("checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

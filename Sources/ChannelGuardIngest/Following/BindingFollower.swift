import ChannelGuardIndex
import ChannelGuardStore
import Foundation
import Logging
import NIOCore
import Synchronization

/// Brings binding changes made by anything else (the API, `demo-data`, another node) into the
/// running serial index, whatever their size: listens for `channelguard_bindings`, reads the keys
/// the changes touched (`binding_change_keys`) a page at a time, resolves each key's current row
/// (serial, printed run, carton, or every binding a shipment carried), and has each pipeline shard
/// apply its own updates on its own loop in slices, between the parts it checks — ingest never
/// stops while a truck of 100,000 units is applied. Rebinding keeps a serial's scan state. Checked
/// at least once a second, so a missed notification is caught up.
///
/// Change ids and key ids are handed out in commit order (migration 15), so reading every change
/// after the last one applied misses none. Only a TRUNCATE records no keys: the index is marked
/// stale, its snapshot keeps the older watermark, and the next start rebuilds it.
final class BindingFollower: Sendable {
    static let channel = "channelguard_bindings"
    /// Keys read per query.
    static let pageSize = 10_000
    /// Updates a shard applies in one task on its loop (a millisecond or so).
    static let sliceSize = 2_000

    private let url: DatabaseURL
    private let index: SerialIndex
    private let shards: [PipelineShard]
    private let logger: Logger
    private let stats: PipelineStats?
    /// The highest change applied (or found needing a rebuild).
    let applied: Atomic<Int64>
    /// The first change that needs a rebuild; 0 when none.
    let staleFrom = Atomic<Int64>(0)
    private let loadedAt: Int64
    /// When keys were last pruned (monotonic nanoseconds; 0: not yet).
    private let lastPrune = Atomic<UInt64>(0)
    /// How long change keys are kept for nodes that fall behind.
    static let keyRetention = "1 day"

    init(
        url: DatabaseURL,
        index: SerialIndex,
        shards: [PipelineShard],
        watermark: UInt64,
        logger: Logger,
        stats: PipelineStats? = nil
    ) {
        self.stats = stats
        self.url = url
        self.index = index
        self.shards = shards
        self.logger = logger
        loadedAt = Int64(watermark)
        applied = Atomic(Int64(watermark))
    }

    /// The watermark a snapshot written now may carry.
    var snapshotWatermark: UInt64 {
        UInt64(staleFrom.load(ordering: .relaxed) != 0 ? loadedAt : applied.load(ordering: .relaxed))
    }

    func start() -> ChangeListener {
        let listener = ChangeListener(url: url, channel: Self.channel, logger: logger) { [self] connection in
            try catchUp(connection)
        }
        listener.start()
        return listener
    }

    /// Applies every change after ``applied``.
    func catchUp(_ connection: LibPQConnection) throws {
        let from = applied.load(ordering: .relaxed)
        let changes = try connection.execute(
            "SELECT seq, table_name FROM binding_changes WHERE seq > $1::bigint ORDER BY seq",
            ["\(from)"]
        )
        defer { pruneKeys(connection) }
        guard let last = changes.last.flatMap({ Int64($0[0] ?? "") }) else { return }
        let horizon =
            Int64(try connection.execute("SELECT pruned_through FROM binding_change_horizon")[0][0] ?? "0") ?? 0
        if from < horizon, staleFrom.load(ordering: .relaxed) == 0 {
            staleFrom.store(from + 1, ordering: .relaxed)
            logger.warning(
                "binding changes were pruned before this node applied them: the serial index is rebuilt at the next start",
                metadata: ["applied": "\(from)", "pruned_through": "\(horizon)"]
            )
        }
        for change in changes where change[1]?.hasSuffix(":truncate") == true {
            if staleFrom.load(ordering: .relaxed) == 0, let seq = Int64(change[0] ?? "") {
                staleFrom.store(seq, ordering: .relaxed)
                logger.warning(
                    "a binding table was truncated (\(change[1] ?? "?")): the serial index is rebuilt at the next start",
                    metadata: ["seq": "\(seq)"]
                )
            }
        }
        var cursor: Int64 = 0
        while true {
            let page = try BindingRows.page(
                from: from,
                through: last,
                after: cursor,
                size: Self.pageSize,
                connection: connection
            )
            cursor = page.last
            try apply(page.updates)
            for shipment in page.shipments {
                try BindingRows.eachPage(ofShipment: shipment, size: Self.pageSize, connection: connection) {
                    try apply($0)
                }
            }
            if page.keys < Self.pageSize { break }
        }
        applied.store(last, ordering: .relaxed)
    }

    /// Prunes change keys older than ``keyRetention``, at most once an hour.
    private func pruneKeys(_ connection: LibPQConnection) {
        let now = Monotonic.now()
        let previous = lastPrune.load(ordering: .relaxed)
        guard previous == 0 || now &- previous > 3_600_000_000_000 else { return }
        lastPrune.store(now, ordering: .relaxed)
        do {
            let removed = try connection.execute("SELECT prune_binding_change_keys('\(Self.keyRetention)')")
            if let count = removed.first?.first ?? nil, count != "0" {
                logger.info("binding change keys pruned", metadata: ["rows": "\(count)"])
            }
        } catch {
            logger.warning("could not prune binding change keys", metadata: ["error": "\(error)"])
        }
    }

    /// Hands each shard its updates, a slice per task on its loop, and waits for all of them.
    private func apply(_ updates: [BindingRows.Update]) throws {
        guard !updates.isEmpty else { return }
        defer { stats?.bindingKeysApplied.add(updates.count) }
        var perShard = [[BindingRows.Update]](repeating: [], count: shards.count)
        for update in updates {
            switch update {
            case .range:
                // A range is copied into every shard; each shard's owner writes its own copy.
                for shard in perShard.indices { perShard[shard].append(update) }
            case .serial(let key, _), .carton(let key, _):
                perShard[index.shardNumber(key)].append(update)
            case .contents(_, let carton, _):
                perShard[index.shardNumber(carton)].append(update)
            }
        }
        let index = index
        var pending: [EventLoopFuture<Void>] = []
        for (number, (shard, updates)) in zip(shards, perShard).enumerated() {
            for start in stride(from: 0, to: updates.count, by: Self.sliceSize) {
                let slice = Array(updates[start..<min(start + Self.sliceSize, updates.count)])
                pending.append(shard.submit { Self.apply(slice, to: index, shard: number) })
            }
        }
        for future in pending { try future.wait() }
    }

    /// Runs on shard `shard`'s loop: bind, rebind (scan state kept) or unbind each key.
    static func apply(_ updates: [BindingRows.Update], to index: SerialIndex, shard: Int) {
        for update in updates {
            switch update {
            case .serial(let key, let binding), .carton(let key, let binding):
                if let binding {
                    if !index.rebind(key, to: binding) { _ = try? index.bind(key, to: binding) }
                } else if let match = index.lookup(key), match.source != .range,
                    match.binding.shipment != SerialBinding.scanShipment
                {
                    // Unbound in the database; a unit bound by a ship scan keeps its binding.
                    index.unbind(key)
                }
            case .range(let gtin, let prefix, let binding):
                if let binding {
                    _ = try? index.bindRange(gtin: gtin, prefix: prefix, to: binding, inShard: shard)
                } else {
                    _ = try? index.unbindRange(gtin: gtin, prefix: prefix, inShard: shard)
                }
            case .contents(let sscc, _, let unit):
                // Membership only (the unit's own binding comes with its own row). A unit moved out
                // of a carton keeps its old entry until the next rebuild; nothing on the scan path
                // reads a carton's contents.
                try? index.addToCarton(sscc: sscc, unit: unit)
            }
        }
    }
}

import ChannelGuardIndex
import ChannelGuardStore
import Foundation
import Logging
import Synchronization

/// Brings binding changes made by anything else (the API, `demo-data`, another node) into the
/// running serial index: listens for `channelguard_bindings`, reads the keys each change touched
/// (`binding_change_keys`), resolves their current owners, and has each pipeline shard apply its
/// own keys on its own loop (rebinding keeps a serial's scan state). Checked at least once a
/// second, so a missed notification is caught up.
///
/// Changes recorded without keys — bulk loads, truncations, cartons and printed runs — are not
/// applied one by one: the index is marked stale, its snapshot keeps the older watermark, and the
/// next start rebuilds it.
final class BindingFollower: Sendable {
    static let channel = "channelguard_bindings"

    private let url: DatabaseURL
    private let index: SerialIndex
    private let shards: [PipelineShard]
    private let logger: Logger
    /// The highest change applied (or found needing a rebuild).
    let applied: Atomic<Int64>
    /// The first change that needs a rebuild; 0 when none.
    let staleFrom = Atomic<Int64>(0)
    private let loadedAt: Int64

    init(url: DatabaseURL, index: SerialIndex, shards: [PipelineShard], watermark: UInt64, logger: Logger) {
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
            """
            SELECT c.seq, c.table_name, EXISTS (SELECT 1 FROM binding_change_keys k WHERE k.seq = c.seq)
            FROM binding_changes c WHERE c.seq > $1::bigint ORDER BY c.seq
            """,
            ["\(from)"]
        )
        guard let last = changes.last.flatMap({ Int64($0[0] ?? "") }) else { return }
        for change in changes where change[2] != "t" {
            // No keys: a bulk load, a truncation, cartons or printed runs.
            if staleFrom.load(ordering: .relaxed) == 0, let seq = Int64(change[0] ?? "") {
                staleFrom.store(seq, ordering: .relaxed)
                logger.warning(
                    "a binding change without keys (\(change[1] ?? "?")): the serial index is rebuilt at the next start",
                    metadata: ["seq": "\(seq)"]
                )
            }
        }
        let rows = try connection.execute(
            """
            SELECT k.gtin, k.serial, s.to_distributor_id, b.shipment_id, (extract(epoch FROM b.bound_at) * 1000)::bigint
            FROM (SELECT DISTINCT gtin, serial FROM binding_change_keys
                  WHERE seq > $1::bigint AND seq <= $2::bigint AND serial IS NOT NULL) k
            LEFT JOIN serial_bindings b ON b.gtin = k.gtin AND b.serial = k.serial
            LEFT JOIN shipments s ON s.id = b.shipment_id
            UNION ALL
            SELECT b.gtin, b.serial, s.to_distributor_id, b.shipment_id, (extract(epoch FROM b.bound_at) * 1000)::bigint
            FROM (SELECT DISTINCT shipment_id FROM binding_change_keys
                  WHERE seq > $1::bigint AND seq <= $2::bigint AND shipment_id IS NOT NULL) k
            JOIN serial_bindings b ON b.shipment_id = k.shipment_id
            JOIN shipments s ON s.id = b.shipment_id
            """,
            ["\(from)", "\(last)"]
        )
        var perShard = [[(IndexKey, SerialBinding?)]](repeating: [], count: shards.count)
        for row in rows {
            guard let gtin = UInt64(row[0] ?? ""), let serial = row[1],
                let key = try? IndexKey(gtin: gtin, serial: Array(serial.utf8))
            else { continue }
            var binding: SerialBinding?
            if let owner = Int64(row[2] ?? ""), let shipment = Int64(row[3] ?? ""), let boundAt = Int64(row[4] ?? "") {
                binding = try? SerialBinding(distributor: owner, shipment: shipment, boundAt: boundAt)
            }
            perShard[index.shardNumber(key)].append((key, binding))
        }
        let index = index
        for (shard, updates) in zip(shards, perShard) where !updates.isEmpty {
            let box = UncheckedBox(updates)
            try shard.submit { Self.apply(box.value, to: index) }.wait()
        }
        applied.store(last, ordering: .relaxed)
    }

    /// Runs on the shard's loop: bind, rebind (scan state kept) or unbind each key.
    static func apply(_ updates: [(IndexKey, SerialBinding?)], to index: SerialIndex) {
        for (key, binding) in updates {
            if let binding {
                if !index.rebind(key, to: binding) { _ = try? index.bind(key, to: binding) }
            } else if let match = index.lookup(key), match.source == .serial,
                match.binding.shipment != SerialBinding.scanShipment
            {
                // Unbound in the database; a unit bound by a ship scan keeps its binding.
                index.unbind(key)
            }
        }
    }
}

import ChannelGuardCodes
import ChannelGuardIndex
import ChannelGuardStore

/// The current rows behind changed binding keys, as index updates: what ``BindingFollower``
/// applies. Reads only; every row the database holds right now, so applying a key twice, or after a
/// later change of the same key, leaves the index as the tables say.
enum BindingRows {
    /// One key's state in the tables.
    enum Update: Sendable {
        /// An exact serial, or a carton's SSCC; `nil`: no row any more.
        case serial(IndexKey, SerialBinding?)
        case carton(IndexKey, SerialBinding?)
        /// A printed run: every serial of `gtin` starting with `prefix`.
        case range(gtin: UInt64, prefix: [UInt8], SerialBinding?)
        /// `unit` is packed in carton `sscc` (whose key is `carton`).
        case contents(sscc: UInt64, carton: IndexKey, unit: IndexKey)
    }

    /// Milliseconds since the epoch of a timestamp column, as the rebuild reads them.
    private static func millis(_ column: String) -> String { "(extract(epoch FROM \(column)) * 1000)::bigint" }

    /// Reads the page of change keys after `cursor` within changes `(from, through]`, each resolved
    /// to its current row. Returns the updates, the shipments whose every binding is to be read
    /// again, the keys read and the last key id.
    static func page(
        from: Int64,
        through: Int64,
        after cursor: Int64,
        size: Int,
        connection: LibPQConnection
    ) throws -> (updates: [Update], shipments: [Int64], keys: Int, last: Int64) {
        let rows = try connection.execute(
            """
            WITH page AS (
                SELECT id, kind, gtin, serial, shipment_id FROM binding_change_keys
                WHERE seq > $1::bigint AND seq <= $2::bigint AND id > $3::bigint ORDER BY id LIMIT \(size))
            SELECT p.id, p.kind, p.gtin, p.serial, s.to_distributor_id, b.shipment_id, \(millis("b.bound_at")), b.carton_sscc
            FROM page p
            LEFT JOIN serial_bindings b ON b.gtin = p.gtin AND b.serial = p.serial
            LEFT JOIN shipments s ON s.id = b.shipment_id
            WHERE p.kind = 'serial'
            UNION ALL
            SELECT p.id, p.kind, p.gtin, p.serial, s.to_distributor_id, r.shipment_id, \(millis("r.bound_at")), NULL
            FROM page p
            LEFT JOIN serial_range_bindings r ON r.gtin = p.gtin AND r.serial_prefix = p.serial
            LEFT JOIN shipments s ON s.id = r.shipment_id
            WHERE p.kind = 'range'
            UNION ALL
            SELECT p.id, p.kind, NULL, p.serial, s.to_distributor_id, c.shipment_id, \(millis("c.bound_at")), c.parent_sscc
            FROM page p
            LEFT JOIN cartons c ON c.sscc = p.serial::char(18)
            LEFT JOIN shipments s ON s.id = c.shipment_id
            WHERE p.kind = 'carton'
            UNION ALL
            SELECT p.id, p.kind, NULL, NULL, NULL, p.shipment_id, NULL, NULL FROM page p WHERE p.kind = 'shipment'
            """,
            ["\(from)", "\(through)", "\(cursor)"]
        )
        var updates: [Update] = []
        var shipments: [Int64] = []
        var last = cursor
        for row in rows {
            last = max(last, Int64(row[0] ?? "") ?? last)
            let binding = Self.binding(owner: row[4], shipment: row[5], boundAt: row[6])
            switch row[1] {
            case "serial":
                guard let gtin = UInt64(row[2] ?? ""), let serial = row[3],
                    let key = try? IndexKey(gtin: gtin, serial: Array(serial.utf8))
                else { continue }
                updates += serialUpdates(key, binding, carton: row[7])
            case "range":
                guard let gtin = UInt64(row[2] ?? ""), let prefix = row[3] else { continue }
                updates.append(.range(gtin: gtin, prefix: Array(prefix.utf8), binding))
            case "carton":
                guard let sscc = UInt64(row[3] ?? ""), let key = try? IndexKey(sscc: sscc) else { continue }
                updates.append(.carton(key, binding))
                if let parent = row[7].flatMap({ UInt64($0) }), let parentKey = try? IndexKey(sscc: parent) {
                    updates.append(.contents(sscc: parent, carton: parentKey, unit: key))
                }
            case "shipment":
                if let shipment = Int64(row[5] ?? "") { shipments.append(shipment) }
            default:
                continue
            }
        }
        return (updates, shipments, rows.count, last)
    }

    /// Streams every binding a shipment carried (its serials, runs and cartons, with their current
    /// owner) and hands them over `size` at a time: a consignee changed on a shipment of a million
    /// units is applied without holding them all.
    static func eachPage(
        ofShipment shipment: Int64,
        size: Int,
        connection: LibPQConnection,
        _ body: ([Update]) throws -> Void
    ) throws {
        var updates: [Update] = []
        for row in try connection.execute(
            """
            SELECT c.sscc, s.to_distributor_id, c.shipment_id, \(millis("c.bound_at")), c.parent_sscc
            FROM cartons c JOIN shipments s ON s.id = c.shipment_id WHERE c.shipment_id = $1::bigint
            """,
            ["\(shipment)"]
        ) {
            guard let sscc = UInt64(row[0] ?? ""), let key = try? IndexKey(sscc: sscc) else { continue }
            updates.append(.carton(key, binding(owner: row[1], shipment: row[2], boundAt: row[3])))
        }
        for row in try connection.execute(
            """
            SELECT r.gtin, r.serial_prefix, s.to_distributor_id, r.shipment_id, \(millis("r.bound_at"))
            FROM serial_range_bindings r JOIN shipments s ON s.id = r.shipment_id WHERE r.shipment_id = $1::bigint
            """,
            ["\(shipment)"]
        ) {
            guard let gtin = UInt64(row[0] ?? ""), let prefix = row[1] else { continue }
            updates.append(
                .range(
                    gtin: gtin,
                    prefix: Array(prefix.utf8),
                    binding(owner: row[2], shipment: row[3], boundAt: row[4])
                )
            )
        }
        var failure: (any Error)?
        try connection.copyOut(
            """
            COPY (SELECT b.gtin, b.serial, s.to_distributor_id, b.shipment_id, \(millis("b.bound_at")), b.carton_sscc
            FROM serial_bindings b JOIN shipments s ON s.id = b.shipment_id WHERE b.shipment_id = \(shipment)) TO STDOUT
            """
        ) { row in
            guard failure == nil else { return }
            let fields = Self.fields(row)
            guard fields.count == 6, let gtin = UInt64(fields[0] ?? ""), let serial = fields[1],
                let key = try? IndexKey(gtin: gtin, serial: Array(serial.utf8))
            else { return }
            updates += serialUpdates(
                key,
                binding(owner: fields[2], shipment: fields[3], boundAt: fields[4]),
                carton: fields[5]
            )
            if updates.count >= size {
                do { try body(updates) } catch { failure = error }
                updates.removeAll(keepingCapacity: true)
            }
        }
        if let failure { throw failure }
        if !updates.isEmpty { try body(updates) }
    }

    private static func serialUpdates(_ key: IndexKey, _ binding: SerialBinding?, carton: String?) -> [Update] {
        guard let carton = carton.flatMap({ UInt64($0) }), let cartonKey = try? IndexKey(sscc: carton), var binding
        else { return [.serial(key, binding)] }
        binding.flags.insert(.fromCarton)
        return [.serial(key, binding), .contents(sscc: carton, carton: cartonKey, unit: key)]
    }

    private static func binding(owner: String?, shipment: String?, boundAt: String?) -> SerialBinding? {
        guard let owner = Int64(owner ?? ""), let shipment = Int64(shipment ?? ""), let boundAt = Int64(boundAt ?? "")
        else { return nil }
        return try? SerialBinding(distributor: owner, shipment: shipment, boundAt: boundAt)
    }

    /// The tab-separated fields of a text COPY row (`\N` is null). Bindings' columns hold no tabs,
    /// backslashes or newlines (their domains forbid them).
    private static func fields(_ row: UnsafeRawBufferPointer) -> [String?] {
        var end = row.count
        if end > 0, row[end - 1] == 0x0A { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: row[0..<end]).split(separator: 0x09, omittingEmptySubsequences: false)
            .map { field in
                field.count == 2 && field[field.startIndex] == 0x5C && field[field.startIndex + 1] == 0x4E
                    ? nil : String(decoding: field, as: UTF8.self)
            }
    }
}

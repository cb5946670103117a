import ChannelGuardIndex
import ChannelGuardStore

/// Builds a ``SerialIndex`` from the bindings tables, streamed with COPY: the fallback when there is
/// no usable snapshot.
///
/// All reads run in one repeatable-read transaction, so the index and its watermark (the highest
/// `binding_changes.seq`) describe the same moment.
public struct SerialIndexRebuild {
    /// What a rebuild read.
    public struct Report: Sendable, Equatable {
        public var watermark: UInt64 = 0
        public var serials = 0
        public var ranges = 0
        public var cartons = 0
        /// Rows that could not become bindings, and the first few reasons (table, row, reason).
        public var rejectedRows = 0
        public var rejections: [String] = []
    }

    public var shardCount: Int

    public init(shardCount: Int) {
        self.shardCount = shardCount
    }

    /// The source watermark: the highest change sequence of the bindings tables (0 before any).
    public static func watermark(_ connection: LibPQConnection) throws -> UInt64 {
        let rows = try connection.execute("SELECT coalesce(max(seq), 0)::text FROM binding_changes")
        return UInt64(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    /// The database's identity (`database_identity`, migration 10), which a snapshot carries so
    /// that it is never loaded into another database's daemon.
    public static func databaseIdentity(_ connection: LibPQConnection) throws -> UInt128 {
        let rows = try connection.execute("SELECT replace(id::text, '-', '') FROM database_identity")
        guard let text = rows.first?.first.flatMap({ $0 }), text.utf8.count == 32,
            let high = UInt64(text.prefix(16), radix: 16), let low = UInt64(text.suffix(16), radix: 16)
        else { throw StoreError(.queryFailed, "database_identity holds no identity (is the schema migrated?)") }
        return UInt128(high) << 64 | UInt128(low)
    }

    public func run(_ connection: LibPQConnection) throws -> (SerialIndex, Report) {
        let index = try SerialIndex(shardCount: shardCount)
        var report = Report()
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do {
            report.watermark = try Self.watermark(connection)
            try connection.copyOut(
                """
                COPY (SELECT c.sscc, s.to_distributor_id, c.shipment_id, (extract(epoch FROM c.bound_at) * 1000)::bigint, c.parent_sscc
                FROM cartons c JOIN shipments s ON s.id = c.shipment_id) TO STDOUT
                """
            ) { row in
                report.cartons += Self.apply(row, table: "cartons", report: &report) { fields in
                    let sscc = try Self.number(fields[0], "sscc")
                    let binding = try SerialBinding(
                        distributor: Int64(try Self.number(fields[1], "distributor")),
                        shipment: Int64(try Self.number(fields[2], "shipment")),
                        boundAt: try Self.signed(fields[3], "bound_at")
                    )
                    try index.bind(try IndexKey(sscc: sscc), to: binding)
                    if let parent = fields[4] {
                        try index.addToCarton(
                            sscc: try Self.number(parent, "parent_sscc"),
                            unit: try IndexKey(sscc: sscc)
                        )
                    }
                }
            }
            try connection.copyOut(
                """
                COPY (SELECT r.gtin, r.serial_prefix, s.to_distributor_id, r.shipment_id, (extract(epoch FROM r.bound_at) * 1000)::bigint
                FROM serial_range_bindings r JOIN shipments s ON s.id = r.shipment_id) TO STDOUT
                """
            ) { row in
                report.ranges += Self.apply(row, table: "serial_range_bindings", report: &report) { fields in
                    let binding = try SerialBinding(
                        distributor: Int64(try Self.number(fields[2], "distributor")),
                        shipment: Int64(try Self.number(fields[3], "shipment")),
                        boundAt: try Self.signed(fields[4], "bound_at")
                    )
                    try index.bindRange(
                        gtin: try Self.number(fields[0], "gtin"),
                        prefix: try Self.present(fields[1], "serial_prefix"),
                        to: binding
                    )
                }
            }
            try connection.copyOut(
                """
                COPY (SELECT b.gtin, b.serial, s.to_distributor_id, b.shipment_id, (extract(epoch FROM b.bound_at) * 1000)::bigint, b.carton_sscc
                FROM serial_bindings b JOIN shipments s ON s.id = b.shipment_id) TO STDOUT
                """
            ) { row in
                report.serials += Self.apply(row, table: "serial_bindings", report: &report) { fields in
                    let key = try IndexKey(
                        gtin: try Self.number(fields[0], "gtin"),
                        serial: try Self.present(fields[1], "serial")
                    )
                    let binding = try SerialBinding(
                        distributor: Int64(try Self.number(fields[2], "distributor")),
                        shipment: Int64(try Self.number(fields[3], "shipment")),
                        boundAt: try Self.signed(fields[4], "bound_at"),
                        flags: fields[5] == nil ? [] : .fromCarton
                    )
                    try index.bind(key, to: binding)
                    if let carton = fields[5] {
                        try index.addToCarton(sscc: try Self.number(carton, "carton_sscc"), unit: key)
                    }
                }
            }
            try connection.execute("COMMIT")
            // Node growth and leaf splits during the load leave freed slots behind; drop them.
            try index.compact()
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
        return (index, report)
    }

    /// Splits one text-format COPY row and applies it; a row that fails is counted and described,
    /// and the rebuild goes on with the next. Returns 1 for a row applied, 0 for one rejected.
    static func apply(
        _ row: UnsafeRawBufferPointer,
        table: String,
        report: inout Report,
        _ body: ([UnsafeRawBufferPointer?]) throws -> Void
    ) -> Int {
        var fields: [UnsafeRawBufferPointer?] = []
        var start = 0
        var end = row.count
        if end > 0 && row[end - 1] == 0x0A { end -= 1 }
        for index in 0...end where index == end || row[index] == 0x09 {
            let field = UnsafeRawBufferPointer(rebasing: row[start..<index])
            fields.append(field.count == 2 && field[0] == 0x5C && field[1] == 0x4E ? nil : field)
            start = index + 1
        }
        do {
            try body(fields)
            return 1
        } catch {
            report.rejectedRows += 1
            if report.rejections.count < 10 {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: row[0..<end]), as: UTF8.self)
                report.rejections.append("\(table) row \(text.split(separator: "\t").joined(separator: " ")): \(error)")
            }
            return 0
        }
    }

    static func present(_ field: UnsafeRawBufferPointer?, _ name: String) throws(IndexError) -> [UInt8] {
        guard let field else { throw IndexError(.rebuildRow, "\(name) is null") }
        return Array(field)
    }

    static func number(_ field: UnsafeRawBufferPointer?, _ name: String) throws(IndexError) -> UInt64 {
        guard let field, !field.isEmpty, field.count <= 19 else {
            throw IndexError(.rebuildRow, "\(name) is not a number")
        }
        var value: UInt64 = 0
        for byte in field {
            guard (0x30...0x39).contains(byte) else { throw IndexError(.rebuildRow, "\(name) is not a number") }
            value = value * 10 + UInt64(byte - 0x30)
        }
        return value
    }

    static func signed(_ field: UnsafeRawBufferPointer?, _ name: String) throws(IndexError) -> Int64 {
        guard let field, let first = field.first else { throw IndexError(.rebuildRow, "\(name) is missing") }
        if first == 0x2D { return -Int64(try number(UnsafeRawBufferPointer(rebasing: field.dropFirst()), name)) }
        return Int64(try number(field, name))
    }
}

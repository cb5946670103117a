import ChannelGuardStore
import Foundation

/// Writes the ``DemoNetwork`` and its serials into a migrated database, idempotently: what exists
/// is kept, what is missing is added, nothing is duplicated.
public struct DemoNetworkLoader: Sendable {
    public let network: DemoNetwork

    /// What a load added and what the database holds afterwards.
    public struct Report: Sendable, Equatable {
        public var distributorsAdded = 0
        public var territoryGrantsAdded = 0
        public var productsAdded = 0
        public var shipmentsAdded = 0
        public var serialsAdded = 0
        /// Demo serials bound after the load.
        public var serialsTotal = 0
    }

    public init(network: DemoNetwork = .generate()) {
        self.network = network
    }

    /// Whether the demo network's root distributor exists.
    public func isLoaded(_ connection: LibPQConnection) throws -> Bool {
        try !connection.execute("SELECT 1 FROM distributors WHERE code = $1", [DemoNetwork.headquartersCode]).isEmpty
    }

    /// How many demo serials are bound.
    public func serialCount(_ connection: LibPQConnection) throws -> Int {
        let rows = try connection.execute(
            """
            SELECT count(*) FROM serial_bindings
            WHERE shipment_id IN (SELECT id FROM shipments WHERE code LIKE 'DEMO-W%')
            """
        )
        return Int(rows[0][0] ?? "0") ?? 0
    }

    /// Loads the network and binds demo serials up to `serials` (never removes any), in one transaction.
    public func load(_ connection: LibPQConnection, serials: Int) throws -> Report {
        try connection.execute("BEGIN")
        do {
            var report = try loadNetwork(connection)
            let existing = try serialCount(connection)
            if serials > existing {
                let added = try bindSerials(connection, range: existing..<serials)
                report.shipmentsAdded = added.shipments
                report.serialsAdded = added.serials
            }
            report.serialsTotal = max(existing, serials)
            try connection.execute("COMMIT")
            return report
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    private func loadNetwork(_ connection: LibPQConnection) throws -> Report {
        var report = Report()
        try connection.stageTextRows(
            table: "demo_price_lists",
            columns: ["code", "name"],
            rows: network.priceLists.map { [$0.code, $0.name] }
        )
        try connection.execute(
            """
            INSERT INTO price_lists (code, name, valid_from)
            SELECT code, name, DATE '2026-01-01' FROM demo_price_lists ON CONFLICT (code) DO NOTHING
            """
        )

        try connection.stageTextRows(
            table: "demo_distributors",
            columns: ["code", "name", "tier", "parent_code", "home_region", "credit_limit", "price_list"],
            rows: network.distributors.map {
                [
                    $0.code, $0.name, $0.tier, $0.parentCode, $0.homeRegion.description, String($0.creditLimit),
                    $0.priceListCode,
                ]
            }
        )
        // Tier by tier, so every parent exists before its children are inserted.
        for tier in ["hq", "provincial_agent", "city_dealer", "store"] {
            report.distributorsAdded += try connection.executeCounting(
                """
                INSERT INTO distributors (code, name, tier, parent_id, home_region, credit_limit, price_list_id)
                SELECT d.code, d.name, d.tier, p.id, d.home_region, d.credit_limit::numeric, pl.id
                FROM demo_distributors d
                LEFT JOIN distributors p ON p.code = d.parent_code
                LEFT JOIN price_lists pl ON pl.code = d.price_list
                WHERE d.tier = $1 ORDER BY d.code
                ON CONFLICT (code) DO NOTHING
                """,
                [tier]
            )
        }

        try connection.stageTextRows(
            table: "demo_grants",
            columns: ["distributor", "region"],
            rows: network.distributors.flatMap { d in d.territory.map { [d.code, $0.description] } }
        )
        report.territoryGrantsAdded = try connection.executeCounting(
            """
            INSERT INTO territory_grants (distributor_id, region_code, kind, valid_from)
            SELECT d.id, g.region, 'primary', TIMESTAMPTZ '2026-01-01 00:00:00+00'
            FROM demo_grants g JOIN distributors d ON d.code = g.distributor
            ON CONFLICT (distributor_id, region_code, valid_from) DO NOTHING
            """
        )

        try connection.stageTextRows(
            table: "demo_products",
            columns: ["gtin", "sku", "name", "category", "retail"],
            rows: network.products.map {
                [$0.gtin.digits, $0.sku, $0.name, $0.category, Self.yuan(fen: $0.retailPriceFen)]
            }
        )
        report.productsAdded = try connection.executeCounting(
            """
            INSERT INTO products (gtin, sku, name, category)
            SELECT gtin, sku, name, category FROM demo_products ORDER BY gtin
            ON CONFLICT (gtin) DO NOTHING
            """
        )
        for list in network.priceLists {
            try connection.execute(
                """
                INSERT INTO price_list_items (price_list_id, product_id, unit_price)
                SELECT pl.id, p.id, round(s.retail::numeric * $2::numeric / 100, 2)
                FROM demo_products s JOIN products p ON p.gtin = s.gtin JOIN price_lists pl ON pl.code = $1
                ON CONFLICT (price_list_id, product_id) DO NOTHING
                """,
                [list.code, String(list.percentOfRetail)]
            )
        }
        try connection.execute(
            """
            INSERT INTO minimum_retail_prices (product_id, region_code, min_price, valid_from)
            SELECT p.id, NULL, round(s.retail::numeric * $1::numeric / 100, 2), DATE '2026-01-01'
            FROM demo_products s JOIN products p ON p.gtin = s.gtin
            ON CONFLICT (product_id, region_code, valid_from) DO NOTHING
            """,
            [String(network.minimumRetailPercent)]
        )

        try connection.execute(
            """
            INSERT INTO warehouses (code, name, distributor_id, region_code)
            SELECT 'WH-' || d.code, d.name || ' warehouse', d.id, d.home_region
            FROM demo_distributors s JOIN distributors d ON d.code = s.code
            WHERE s.tier IN ('hq', 'provincial_agent', 'city_dealer')
            ON CONFLICT (code) DO NOTHING
            """
        )

        try connection.stageTextRows(
            table: "demo_gateways",
            columns: ["code", "name", "kind", "owner", "secret"],
            rows: network.gateways.map { [$0.code, $0.name, $0.kind, $0.ownerCode, Self.randomHex(bytes: 32)] }
        )
        try connection.execute(
            """
            INSERT INTO gateways (code, name, kind, secret, owner_distributor_id)
            SELECT g.code, g.name, g.kind, decode(g.secret, 'hex'), d.id
            FROM demo_gateways g JOIN distributors d ON d.code = g.owner ORDER BY g.code
            ON CONFLICT (code) DO NOTHING
            """
        )
        return report
    }

    private func bindSerials(_ connection: LibPQConnection, range: Range<Int>) throws -> (shipments: Int, serials: Int)
    {
        let serials = DemoSerials(network: network)
        let parents = Dictionary(uniqueKeysWithValues: network.distributors.map { ($0.code, $0.parentCode) })

        // One shipment per (wave, owner) among the new serials, from the owner's parent.
        var shipmentRows: [[String?]] = []
        var seen = Set<String>()
        let formatter = ISO8601DateFormatter()
        for index in range {
            let code = serials.shipmentCode(index)
            guard seen.insert(code).inserted else { continue }
            let owner = serials.owner(index)
            let shippedAt = Date(
                timeIntervalSince1970: TimeInterval(DemoSerials.shippedAtUnixSeconds(wave: DemoSerials.wave(index)))
            )
            shipmentRows.append([
                code, parents[owner] ?? DemoNetwork.headquartersCode, owner, formatter.string(from: shippedAt),
            ])
        }
        try connection.stageTextRows(
            table: "demo_shipments",
            columns: ["code", "sender", "owner", "shipped_at"],
            rows: shipmentRows
        )
        let shipmentsAdded = try connection.executeCounting(
            """
            INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at, status)
            SELECT s.code, f.id, t.id, s.shipped_at::timestamptz, 'delivered'
            FROM demo_shipments s JOIN distributors f ON f.code = s.sender JOIN distributors t ON t.code = s.owner
            ORDER BY s.code
            ON CONFLICT (code) DO NOTHING
            """
        )
        var shipmentIDs: [String: Int64] = [:]
        for row in try connection.execute(
            "SELECT s.code, s.id FROM shipments s JOIN demo_shipments d ON d.code = s.code"
        ) {
            shipmentIDs[row[0]!] = Int64(row[1]!)
        }

        // Per-row foreign-key triggers cost about 3.5 µs per key per row, two thirds of the load.
        // As superuser (the embedded cluster), the COPY runs with triggers off and the same keys are
        // then checked in one set-based query; a violation aborts the whole transaction.
        let checkAfterwards =
            try connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").first?.first == "t"
        if checkAfterwards { try connection.execute("SET LOCAL session_replication_role = replica") }
        let stored = try connection.copyIn(
            "COPY serial_bindings (gtin, serial, shipment_id, bound_at) FROM STDIN (FORMAT binary)"
        ) { sink in
            for index in range {
                guard let shipmentID = shipmentIDs[serials.shipmentCode(index)] else {
                    throw StoreError(
                        .copyFailed,
                        "demo serial \(index): its shipment \(serials.shipmentCode(index)) is missing"
                    )
                }
                sink.encoder.beginRow(fieldCount: 4)
                sink.encoder.appendText(serials.product(index).digits)
                sink.encoder.appendText(DemoSerials.serial(index))
                sink.encoder.appendInt64(shipmentID)
                sink.encoder.appendTimestamp(
                    unixSeconds: DemoSerials.shippedAtUnixSeconds(wave: DemoSerials.wave(index))
                )
                try sink.endRow()
            }
        }
        if checkAfterwards {
            try connection.execute("SET LOCAL session_replication_role = origin")
            let orphans = try connection.execute(
                """
                SELECT count(*) FROM serial_bindings b
                WHERE b.shipment_id IN (SELECT s.id FROM shipments s JOIN demo_shipments d ON d.code = s.code)
                  AND NOT EXISTS (SELECT 1 FROM products p WHERE p.gtin = b.gtin)
                """
            )
            guard orphans.first?.first == "0" else {
                throw StoreError(
                    .copyFailed,
                    "demo serials reference unknown products: \(orphans.first?.first.flatMap { $0 } ?? "?") rows"
                )
            }
        }
        return (shipmentsAdded, stored)
    }

    static func yuan(fen: Int) -> String {
        let cents = fen % 100
        return "\(fen / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}

import Foundation
import Logging
import PostgresNIO

/// Runs territory audits against the database: rollups for scans (`scan_rollups_hourly`, folded
/// from the batches), shipments for bound units, alerts for diverted units and their
/// destinations, incidents for cases.
public struct TerritoryAudit: Sendable {
    /// What to audit.
    public struct Request: Sendable, Hashable {
        public var from: Date
        public var to: Date
        /// A distributor: it and its subtree.
        public var distributor: Int64?
        /// Distributors whose home region lies under this prefix (2, 4 or 6 digits).
        public var regionPrefix: String?
        /// A distributor account's subtree root: nothing outside it is counted.
        public var scope: Int64?

        public init(from: Date, to: Date, distributor: Int64? = nil, regionPrefix: String? = nil, scope: Int64? = nil) {
            self.from = from
            self.to = to
            self.distributor = distributor
            self.regionPrefix = regionPrefix
            self.scope = scope
        }
    }

    public let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// The distributors in the audit: the subtree and region asked for, within the scope.
    static let inAudit = """
        SELECT id FROM distributors
        WHERE ($1::int8 IS NULL OR $1::int8 = ANY (path)) AND ($2::int8 IS NULL OR $2::int8 = ANY (path))
          AND ($3::text IS NULL OR home_region LIKE $3::text || '%')
        """

    public func run(_ request: Request, logger: Logger) async throws -> TerritoryAuditReport {
        let downstream = "('receive','sell','activate','inspect')"
        func query(_ sql: String) throws -> PostgresQuery {
            var query = PostgresQuery(unsafeSQL: sql)
            try query.binds.append(request.scope, context: .default)
            try query.binds.append(request.distributor, context: .default)
            try query.binds.append(request.regionPrefix, context: .default)
            try query.binds.append(request.from, context: .default)
            try query.binds.append(request.to, context: .default)
            return query
        }
        let audited = "WITH audited AS (\(Self.inAudit))"

        var steps: [TerritoryAuditReport.StepCount] = []
        for try await (step, scans, inside) in try await client.query(
            try query(
                """
                \(audited)
                SELECT step, sum(scans)::int8, coalesce(sum(scans) FILTER (WHERE in_territory), 0)::int8
                FROM scan_rollups_hourly WHERE distributor_id IN (SELECT id FROM audited) AND hour >= $4 AND hour < $5
                GROUP BY step ORDER BY step
                """
            ),
            logger: logger
        ).decode((String, Int64, Int64).self) {
            steps.append(.init(step: step, scans: scans, inTerritory: inside))
        }

        var bound: Int64 = 0
        for try await value in try await client.query(
            try query(
                """
                \(audited)
                SELECT (SELECT count(*) FROM serial_bindings b JOIN shipments s ON s.id = b.shipment_id
                        WHERE s.to_distributor_id IN (SELECT id FROM audited) AND s.shipped_at >= $4 AND s.shipped_at < $5)
                     + (SELECT coalesce(sum(r.unit_count), 0) FROM serial_range_bindings r JOIN shipments s ON s.id = r.shipment_id
                        WHERE s.to_distributor_id IN (SELECT id FROM audited) AND s.shipped_at >= $4 AND s.shipped_at < $5)
                """
            ),
            logger: logger
        ).decode(Int64.self) { bound = value }

        // Diverted units: distinct units with an out-of-territory alert, with their distributor,
        // its home province, the scan province and the unit price.
        let diverted = """
            \(audited), diverted AS (
                SELECT DISTINCT ON (a.gtin, a.serial, a.sscc) a.gtin, a.serial, a.sscc, a.distributor_id,
                       substr(d.home_region, 1, 2) || '0000' AS from_province,
                       substr(a.scan_region, 1, 2) || '0000' AS to_province,
                       (date_trunc('day', a.scanned_at AT TIME ZONE 'Asia/Shanghai'))::date AS day,
                       coalesce(pi.unit_price, 0) AS price
                FROM alerts a
                JOIN distributors d ON d.id = a.distributor_id
                LEFT JOIN products p ON p.gtin = a.gtin
                LEFT JOIN price_list_items pi ON pi.price_list_id = d.price_list_id AND pi.product_id = p.id
                WHERE a.rule = 'out_of_territory' AND a.distributor_id IN (SELECT id FROM audited)
                  AND a.scanned_at >= $4 AND a.scanned_at < $5
                ORDER BY a.gtin, a.serial, a.sscc, a.scanned_at)
            """

        var flows: [TerritoryAuditReport.Flow] = []
        for try await (fromCode, fromName, toCode, toName, units) in try await client.query(
            try query(
                """
                \(diverted)
                SELECT f.from_province, rf.name, f.to_province, rt.name, count(*)::int8
                FROM diverted f JOIN regions rf ON rf.code = f.from_province JOIN regions rt ON rt.code = f.to_province
                GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 3
                """
            ),
            logger: logger
        ).decode((String, String, String, String, Int64).self) {
            flows.append(
                .init(from: .init(code: fromCode, name: fromName), to: .init(code: toCode, name: toName), units: units)
            )
        }

        var divertedUnits: Int64 = 0
        var divertedValue = "0.00"
        for try await (units, value) in try await client.query(
            try query("\(diverted) SELECT count(*)::int8, coalesce(sum(price), 0)::numeric(14,2)::text FROM diverted"),
            logger: logger
        ).decode((Int64, String).self) {
            divertedUnits = units
            divertedValue = value
        }

        var diverters: [TerritoryAuditReport.Diverter] = []
        for try await (code, name, tier, units, value, scans, outside) in try await client.query(
            try query(
                """
                \(diverted), per AS (
                    SELECT distributor_id, count(*)::int8 AS units, sum(price)::numeric(14,2)::text AS value
                    FROM diverted GROUP BY 1)
                SELECT d.code, d.name, d.tier, per.units, per.value,
                       coalesce((SELECT sum(scans) FROM scan_rollups_hourly r WHERE r.distributor_id = per.distributor_id
                                 AND r.step IN \(downstream) AND r.hour >= $4 AND r.hour < $5), 0)::int8,
                       coalesce((SELECT sum(scans) FROM scan_rollups_hourly r WHERE r.distributor_id = per.distributor_id
                                 AND r.step IN \(downstream) AND NOT r.in_territory AND r.hour >= $4 AND r.hour < $5), 0)::int8
                FROM per JOIN distributors d ON d.id = per.distributor_id
                ORDER BY per.units DESC, d.code LIMIT 10
                """
            ),
            logger: logger
        ).decode((String, String, String, Int64, String, Int64, Int64).self) {
            diverters.append(
                .init(
                    distributor: .init(code: code, name: name),
                    tier: tier,
                    divertedUnits: units,
                    downstreamScans: scans,
                    outOfTerritoryScans: outside,
                    divertedValue: value
                )
            )
        }

        var trend: [TerritoryAuditReport.Day] = []
        for try await (day, scans, outside, units) in try await client.query(
            try query(
                """
                \(diverted), scans AS (
                    SELECT (date_trunc('day', hour AT TIME ZONE 'Asia/Shanghai'))::date AS day,
                           sum(scans) AS downstream, coalesce(sum(scans) FILTER (WHERE NOT in_territory), 0) AS outside
                    FROM scan_rollups_hourly
                    WHERE distributor_id IN (SELECT id FROM audited) AND step IN \(downstream) AND hour >= $4 AND hour < $5
                    GROUP BY 1),
                units AS (SELECT day, count(*) AS units FROM diverted GROUP BY 1)
                SELECT to_char(coalesce(s.day, u.day), 'YYYY-MM-DD'), coalesce(s.downstream, 0)::int8,
                       coalesce(s.outside, 0)::int8, coalesce(u.units, 0)::int8
                FROM scans s FULL JOIN units u ON u.day = s.day ORDER BY 1
                """
            ),
            logger: logger
        ).decode((String, Int64, Int64, Int64).self) {
            trend.append(.init(day: day, downstreamScans: scans, outOfTerritoryScans: outside, divertedUnits: units))
        }

        var alerts: Int64 = 0
        for try await value in try await client.query(
            try query(
                """
                \(audited)
                SELECT count(*)::int8 FROM alerts
                WHERE distributor_id IN (SELECT id FROM audited) AND scanned_at >= $4 AND scanned_at < $5
                """
            ),
            logger: logger
        ).decode(Int64.self) { alerts = value }

        var incidents: [TerritoryAuditReport.Incident] = []
        var incidentCount: Int64 = 0
        var confirmed: Int64 = 0
        var penalties = "0.00"
        for try await (count, confirmedCount, penalty) in try await client.query(
            try query(
                """
                \(audited)
                SELECT count(*)::int8, count(*) FILTER (WHERE status = 'confirmed')::int8,
                       coalesce(sum(penalty_amount), 0)::numeric(14,2)::text
                FROM incidents
                WHERE distributor_id IN (SELECT id FROM audited) AND window_start >= $4 AND window_start < $5
                """
            ),
            logger: logger
        ).decode((Int64, Int64, String).self) {
            incidentCount = count
            confirmed = confirmedCount
            penalties = penalty
        }
        for try await (id, rule, severity, status, distributor, code, name, units, value) in try await client.query(
            try query(
                """
                \(audited)
                SELECT i.id, i.rule, i.severity, i.status, d.code, i.destination_region::text, r.name, i.units::int8,
                       i.estimated_value::text
                FROM incidents i LEFT JOIN distributors d ON d.id = i.distributor_id
                JOIN regions r ON r.code = i.destination_region
                WHERE i.distributor_id IN (SELECT id FROM audited) AND i.window_start >= $4 AND i.window_start < $5
                ORDER BY i.units DESC, i.id LIMIT 20
                """
            ),
            logger: logger
        ).decode((Int64, String, String, String, String?, String, String, Int64, String).self) {
            incidents.append(
                .init(
                    id: id,
                    rule: rule,
                    severity: severity,
                    status: status,
                    distributor: distributor,
                    destination: .init(code: code, name: name),
                    units: units,
                    estimatedValue: value
                )
            )
        }

        let downstreamSteps = steps.filter { ["receive", "sell", "activate", "inspect"].contains($0.step) }
        let downstreamScans = downstreamSteps.reduce(0) { $0 + $1.scans }
        let inside = downstreamSteps.reduce(0) { $0 + $1.inTerritory }
        let shipScans = steps.first { $0.step == "ship" }?.scans ?? 0
        return TerritoryAuditReport(
            period: .init(from: Self.format(request.from), to: Self.format(request.to)),
            filters: .init(
                distributor: try await named(distributor: request.distributor, logger: logger),
                region: try await named(region: request.regionPrefix, logger: logger)
            ),
            generatedAt: Self.format(Date()),
            totals: .init(
                unitsShipped: bound + shipScans,
                downstreamScans: downstreamScans,
                inTerritoryScans: inside,
                outOfTerritoryScans: downstreamScans - inside,
                shareInTerritory: downstreamScans > 0 ? Double(inside) / Double(downstreamScans) : nil,
                divertedUnits: divertedUnits,
                divertedValue: divertedValue,
                alerts: alerts,
                incidents: incidentCount,
                incidentsConfirmed: confirmed,
                penalties: penalties
            ),
            steps: steps,
            flows: flows,
            topDiverters: diverters,
            trend: trend,
            incidents: incidents
        )
    }

    func named(distributor: Int64?, logger: Logger) async throws -> TerritoryAuditReport.Named? {
        guard let distributor else { return nil }
        for try await (code, name) in try await client.query(
            "SELECT code, name FROM distributors WHERE id = \(distributor)",
            logger: logger
        ).decode((String, String).self) {
            return .init(code: code, name: name)
        }
        return nil
    }

    func named(region prefix: String?, logger: Logger) async throws -> TerritoryAuditReport.Named? {
        guard let prefix else { return nil }
        let code = prefix + String(repeating: "0", count: 6 - prefix.count)
        for try await name in try await client.query("SELECT name FROM regions WHERE code = \(code)", logger: logger)
            .decode(String.self)
        {
            return .init(code: prefix, name: name)
        }
        return .init(code: prefix, name: prefix)
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

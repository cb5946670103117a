import ChannelGuardDetection
import Foundation
import PostgresNIO

/// What a reader of alerts asks for: the same filters on the list, the SSE stream and the
/// WebSocket. Every filter is optional; given ones must all match.
public struct AlertFilter: Sendable, Hashable {
    public static let rules = AlertRule.allCases.map(\.rawValue)
    public static let severities = ["low", "medium", "high", "critical"]

    public var rules: Set<String>?
    public var severities: Set<String>?
    /// Scan region prefix (2, 4 or 6 digits).
    public var regionPrefix: String?
    /// A distributor: alerts on units bound to it or to anyone in its subtree.
    public var distributor: Int64?
    public var incident: Int64?
    public var from: Date?
    public var to: Date?

    public init() {}

    static let streamParameters: Set<String> = ["rule", "severity", "region", "distributor", "last_event_id"]
    static let listParameters: Set<String> = [
        "rule", "severity", "region", "distributor", "incident", "from", "to", "limit", "cursor",
    ]

    init(_ query: QueryReader) throws {
        rules = try query.list("rule", allowed: Self.rules).map(Set.init)
        severities = try query.list("severity", allowed: Self.severities).map(Set.init)
        regionPrefix = try query.regionPrefix("region")
        distributor = try query.int64("distributor")
        if query.values.keys.contains("incident") { incident = try query.int64("incident") }
        if query.values.keys.contains("from") { from = try query.date("from") }
        if query.values.keys.contains("to") { to = try query.date("to") }
    }

    /// Whether a published alert passes the filter (and the caller's scope).
    func matches(_ event: AlertHub.Event, scope: Principal) -> Bool {
        guard scope.sees(path: event.distributorPath) else { return false }
        if let rules, !rules.contains(event.rule) { return false }
        if let severities, !severities.contains(event.severity) { return false }
        if let regionPrefix, !event.region.hasPrefix(regionPrefix) { return false }
        if let distributor, !(event.distributorPath?.contains(distributor) ?? false) { return false }
        if let incident, event.incident != incident { return false }
        return true
    }

    /// A page of the list, newest first, from the query's `limit` and `cursor`.
    func page(_ query: QueryReader, scope: Principal, client: PostgresClient, logger: Logger) async throws -> JSONPage {
        let limit = try query.limit()
        let rows = try await fetch(
            scope: scope,
            beforeID: try query.cursor(),
            limit: limit + 1,
            client: client,
            logger: logger
        )
        return JSONPage(rows: rows, limit: limit)
    }

    /// Alerts after `afterID` (ascending) or before `beforeID` (descending), as (id, body).
    func fetch(
        scope: Principal,
        afterID: Int64? = nil,
        beforeID: Int64? = nil,
        limit: Int,
        client: PostgresClient,
        logger: Logger
    ) async throws -> [(id: Int64, body: String)] {
        let rules = rules.map { Array($0).sorted() }
        let severities = severities.map { Array($0).sorted() }
        let region = regionPrefix.map { $0 + "%" }
        let ascending = afterID != nil
        var query: PostgresQuery = """
            SELECT id, body FROM api_alerts
            WHERE (\(scope.scope)::int8 IS NULL OR \(scope.scope)::int8 = ANY (distributor_path))
              AND (\(rules)::text[] IS NULL OR rule = ANY (\(rules)::text[]))
              AND (\(severities)::text[] IS NULL OR severity = ANY (\(severities)::text[]))
              AND (\(region)::text IS NULL OR scan_region LIKE \(region)::text)
              AND (\(distributor)::int8 IS NULL OR \(distributor)::int8 = ANY (distributor_path))
              AND (\(incident)::int8 IS NULL OR incident_id = \(incident)::int8)
              AND (\(from)::timestamptz IS NULL OR scanned_at >= \(from)::timestamptz)
              AND (\(to)::timestamptz IS NULL OR scanned_at < \(to)::timestamptz)
              AND (\(afterID)::int8 IS NULL OR id > \(afterID)::int8)
              AND (\(beforeID)::int8 IS NULL OR id < \(beforeID)::int8)
            """
        query.sql += ascending ? " ORDER BY id ASC" : " ORDER BY id DESC"
        query.sql += " LIMIT \(limit)"
        var result: [(id: Int64, body: String)] = []
        for try await (id, body) in try await client.query(query, logger: logger).decode((Int64, String).self) {
            result.append((id, body))
        }
        return result
    }
}

import ChannelGuardCodes
import ChannelGuardNotify
import Foundation
import Hummingbird
import PostgresNIO

/// `/v1/webhooks`: subscriptions (admin and compliance), their deliveries with each one's
/// attempts and last error, and a retry for dead-lettered ones.
struct WebhooksController {
    let client: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("webhooks", use: list)
        group.post("webhooks", use: create)
        group.get("webhooks/:id", use: show)
        group.delete("webhooks/:id", use: delete)
        group.get("webhooks/:id/deliveries", use: deliveries)
        group.post("webhooks/:id/deliveries/:delivery/retry", use: retry)
    }

    static let subscriptionJSON = """
        jsonb_strip_nulls(jsonb_build_object(
            'id', s.id, 'name', s.name, 'url', s.url, 'format', s.format, 'events', to_jsonb(s.events),
            'rules', to_jsonb(s.rules), 'min_severity', s.min_severity, 'distributor_id', s.distributor_id,
            'max_attempts', s.max_attempts, 'active', s.active, 'signed', s.secret <> '',
            'created_at', api_time(s.created_at),
            'deliveries', jsonb_build_object(
                'pending', (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending'),
                'delivered', (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'delivered'),
                'dead', (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'dead'))))::text
        """

    static let deliveryJSON = """
        jsonb_strip_nulls(jsonb_build_object(
            'id', d.id, 'subscription_id', d.subscription_id, 'event', d.event, 'incident_id', d.incident_id,
            'incident_status', d.incident_status, 'status', d.status, 'attempts', d.attempts,
            'next_attempt_at', CASE WHEN d.status = 'pending' THEN api_time(d.next_attempt_at) END,
            'last_attempt_at', api_time(d.last_attempt_at), 'last_status', d.last_status, 'last_error', d.last_error,
            'delivered_at', api_time(d.delivered_at), 'created_at', api_time(d.created_at)))::text
        """

    func list(_ request: Request, context: APIRequestContext) async throws -> JSONPage {
        try context.caller().require(.admin, .compliance)
        let query = try QueryReader(request, allowed: ["limit", "cursor"])
        let limit = try query.limit()
        let before = try query.cursor()
        var sql = PostgresQuery(unsafeSQL: "SELECT s.id, \(Self.subscriptionJSON) FROM webhook_subscriptions s")
        sql.sql += " WHERE ($1::int8 IS NULL OR s.id < $1::int8) ORDER BY s.id DESC LIMIT \(limit + 1)"
        try sql.binds.append(before, context: .default)
        return JSONPage(rows: try await fetch(sql, context: context), limit: limit)
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> JSONBody {
        try context.caller().require(.admin, .compliance)
        _ = try QueryReader(request, allowed: [])
        return JSONBody(try await subscription(try context.parameters.positiveID("id"), context: context))
    }

    struct CreateBody: Decodable {
        var name: String
        var url: String
        var format: String
        var secret: String?
        var events: [String]?
        var rules: [String]?
        var minSeverity: String?
        var distributorId: Int64?
        var maxAttempts: Int?
    }

    func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.caller()
        try principal.require(.admin, .compliance)
        let body = try await request.decode(as: CreateBody.self, context: context)
        guard !body.name.trimmingSpaces.isEmpty, body.name.count <= 200 else {
            throw APIError(.invalidBody, "name must be 1 to 200 characters.", parameter: "name")
        }
        guard let url = URL(string: body.url), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw APIError(.invalidBody, "url must be an http or https URL, not \(body.url).", parameter: "url")
        }
        guard WebhookFormat(rawValue: body.format) != nil else {
            throw APIError(
                .invalidBody,
                "format must be one of \(WebhookFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
                parameter: "format"
            )
        }
        let events = ["incident.opened", "incident.status_changed"]
        if let given = body.events {
            guard !given.isEmpty, given.allSatisfy(events.contains) else {
                throw APIError(
                    .invalidBody,
                    "events must be some of \(events.joined(separator: ", ")).",
                    parameter: "events"
                )
            }
        }
        if let rules = body.rules, rules.isEmpty || !rules.allSatisfy(AlertFilter.rules.contains) {
            throw APIError(
                .invalidBody,
                "rules must be some of \(AlertFilter.rules.joined(separator: ", ")).",
                parameter: "rules"
            )
        }
        if let severity = body.minSeverity, !AlertFilter.severities.contains(severity) {
            throw APIError(
                .invalidBody,
                "min_severity must be one of \(AlertFilter.severities.joined(separator: ", ")).",
                parameter: "min_severity"
            )
        }
        if let attempts = body.maxAttempts, !(1...30).contains(attempts) {
            throw APIError(.invalidBody, "max_attempts must be between 1 and 30.", parameter: "max_attempts")
        }
        try await Scope.check(
            body.distributorId,
            of: principal,
            parameter: "distributor_id",
            client: client,
            logger: context.logger
        )
        // A generic subscription is always signed: a secret is made when none is given.
        let secret = body.secret ?? (body.format == "generic" ? APITokens.generate() : "")
        let rows = try await client.query(
            """
            INSERT INTO webhook_subscriptions (name, url, format, secret, events, rules, min_severity, distributor_id,
                                               max_attempts, created_by)
            VALUES (\(body.name), \(body.url), \(body.format), \(secret),
                    coalesce(\(body.events)::text[], '{incident.opened,incident.status_changed}'), \(body.rules)::text[],
                    coalesce(\(body.minSeverity)::text, 'low'), \(body.distributorId),
                    coalesce(\(body.maxAttempts)::int4, 8), \(principal.accountID))
            RETURNING id
            """,
            logger: context.logger
        )
        var id: Int64 = 0
        for try await value in rows.decode(Int64.self) { id = value }
        let json = try await subscription(id, context: context)
        // The secret is shown once, in the answer to its creation.
        let text = String(json.dropLast()) + ",\"secret\":\(JSONText.quote(secret))}"
        return JSONBody(text).response(status: .created)
    }

    func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        try context.caller().require(.admin, .compliance)
        let id = try context.parameters.positiveID("id")
        _ = try await subscription(id, context: context)
        try await client.query("DELETE FROM webhook_subscriptions WHERE id = \(id)", logger: context.logger)
        return Response(status: .noContent)
    }

    func deliveries(_ request: Request, context: APIRequestContext) async throws -> JSONPage {
        try context.caller().require(.admin, .compliance)
        let id = try context.parameters.positiveID("id")
        let query = try QueryReader(request, allowed: ["status", "limit", "cursor"])
        let statuses = try query.list("status", allowed: ["pending", "delivered", "dead"])
        let limit = try query.limit()
        let before = try query.cursor()
        _ = try await subscription(id, context: context)
        var sql = PostgresQuery(unsafeSQL: "SELECT d.id, \(Self.deliveryJSON) FROM webhook_deliveries d")
        sql.sql += """
             WHERE d.subscription_id = $1 AND ($2::text[] IS NULL OR d.status = ANY ($2::text[]))
              AND ($3::int8 IS NULL OR d.id < $3::int8) ORDER BY d.id DESC LIMIT \(limit + 1)
            """
        try sql.binds.append(id, context: .default)
        try sql.binds.append(statuses, context: .default)
        try sql.binds.append(before, context: .default)
        return JSONPage(rows: try await fetch(sql, context: context), limit: limit)
    }

    func retry(_ request: Request, context: APIRequestContext) async throws -> JSONBody {
        try context.caller().require(.admin, .compliance)
        let id = try context.parameters.positiveID("id")
        let delivery = try context.parameters.positiveID("delivery")
        var sql = PostgresQuery(
            unsafeSQL: """
                WITH d AS (
                    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(),
                           locked_until = NULL
                    WHERE id = $1 AND subscription_id = $2 AND status = 'dead' RETURNING *)
                SELECT d.id, \(Self.deliveryJSON) FROM d
                """
        )
        try sql.binds.append(delivery, context: .default)
        try sql.binds.append(id, context: .default)
        guard let row = try await fetch(sql, context: context).first else {
            throw APIError(.notFound, "Subscription \(id) has no dead delivery \(delivery).")
        }
        try await client.query("SELECT pg_notify('channelguard_webhooks', \(String(delivery)))", logger: context.logger)
        return JSONBody(row.body)
    }

    func subscription(_ id: Int64, context: APIRequestContext) async throws -> String {
        var sql = PostgresQuery(
            unsafeSQL: "SELECT s.id, \(Self.subscriptionJSON) FROM webhook_subscriptions s WHERE s.id = $1"
        )
        try sql.binds.append(id, context: .default)
        guard let row = try await fetch(sql, context: context).first else {
            throw APIError(.notFound, "No webhook subscription \(id).")
        }
        return row.body
    }

    func fetch(_ query: PostgresQuery, context: APIRequestContext) async throws -> [(id: Int64, body: String)] {
        var rows: [(id: Int64, body: String)] = []
        for try await (id, body) in try await client.query(query, logger: context.logger).decode((Int64, String).self) {
            rows.append((id, body))
        }
        return rows
    }
}

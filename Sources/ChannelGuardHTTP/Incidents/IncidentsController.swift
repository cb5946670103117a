import Foundation
import Hummingbird
import PostgresNIO

/// `/v1/incidents`: the cases alerts roll up into, and their workflow — status changes,
/// assignment and comments, each recorded in the incident's audit trail (`/events`).
struct IncidentsController {
    let client: PostgresClient

    static let listParameters: Set<String> = [
        "status", "rule", "severity", "region", "distributor", "assignee", "from", "to", "limit", "cursor",
    ]

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("incidents", use: list)
        group.get("incidents/:id", use: show)
        group.get("incidents/:id/alerts", use: alerts)
        group.get("incidents/:id/events", use: events)
        group.post("incidents/:id/transitions", use: transition)
        group.post("incidents/:id/assignment", use: assign)
        group.post("incidents/:id/comments", use: comment)
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> JSONPage {
        let principal = try context.caller()
        let query = try QueryReader(request, allowed: Self.listParameters)
        let statuses = try query.list("status", allowed: IncidentWorkflow.Status.allCases.map(\.rawValue))
        let rules = try query.list("rule", allowed: AlertFilter.rules)
        let severities = try query.list("severity", allowed: AlertFilter.severities)
        let region = try query.regionPrefix("region").map { $0 + "%" }
        let distributor = try query.int64("distributor")
        let assignee = try query.int64("assignee")
        let from = try query.date("from")
        let to = try query.date("to")
        let limit = try query.limit()
        let before = try query.cursor()
        try await Scope.check(
            distributor,
            of: principal,
            parameter: "distributor",
            client: client,
            logger: context.logger
        )
        let scope = principal.scope
        let rows = try await client.query(
            """
            SELECT id, body FROM api_incidents
            WHERE (\(scope)::int8 IS NULL OR \(scope)::int8 = ANY (distributor_path))
              AND (\(statuses)::text[] IS NULL OR status = ANY (\(statuses)::text[]))
              AND (\(rules)::text[] IS NULL OR rule = ANY (\(rules)::text[]))
              AND (\(severities)::text[] IS NULL OR severity = ANY (\(severities)::text[]))
              AND (\(region)::text IS NULL OR destination_region LIKE \(region)::text)
              AND (\(distributor)::int8 IS NULL OR \(distributor)::int8 = ANY (distributor_path))
              AND (\(assignee)::int8 IS NULL OR assignee_account_id = \(assignee)::int8)
              AND (\(from)::timestamptz IS NULL OR window_start >= \(from)::timestamptz)
              AND (\(to)::timestamptz IS NULL OR window_start < \(to)::timestamptz)
              AND (\(before)::int8 IS NULL OR id < \(before)::int8)
            ORDER BY id DESC LIMIT \(limit + 1)
            """,
            logger: context.logger
        )
        var found: [(id: Int64, body: String)] = []
        for try await (id, body) in rows.decode((Int64, String).self) { found.append((id, body)) }
        return JSONPage(rows: found, limit: limit)
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> JSONBody {
        _ = try QueryReader(request, allowed: [])
        let id = try context.parameters.positiveID("id")
        return JSONBody(try await visible(id, context: context).body)
    }

    func alerts(_ request: Request, context: APIRequestContext) async throws -> JSONPage {
        let principal = try context.caller()
        let id = try context.parameters.positiveID("id")
        let query = try QueryReader(request, allowed: ["limit", "cursor"])
        _ = try await visible(id, context: context)
        var filter = AlertFilter()
        filter.incident = id
        return try await filter.page(query, scope: principal, client: client, logger: context.logger)
    }

    func events(_ request: Request, context: APIRequestContext) async throws -> JSONPage {
        let id = try context.parameters.positiveID("id")
        let query = try QueryReader(request, allowed: ["limit", "cursor"])
        _ = try await visible(id, context: context)
        let limit = try query.limit()
        let after = try query.cursor()
        let rows = try await client.query(
            """
            SELECT e.id, jsonb_strip_nulls(jsonb_build_object(
                'id', e.id, 'at', api_time(e.at), 'action', e.action,
                'account', CASE WHEN a.id IS NOT NULL THEN jsonb_build_object('id', a.id, 'username', a.username) END,
                'from_status', e.from_status, 'to_status', e.to_status, 'comment', e.comment,
                'details', e.details))::text
            FROM incident_events e LEFT JOIN accounts a ON a.id = e.account_id
            WHERE e.incident_id = \(id) AND (\(after)::int8 IS NULL OR e.id > \(after)::int8)
            ORDER BY e.id LIMIT \(limit + 1)
            """,
            logger: context.logger
        )
        var found: [(id: Int64, body: String)] = []
        for try await (eventID, body) in rows.decode((Int64, String).self) { found.append((eventID, body)) }
        return JSONPage(rows: found, limit: limit)
    }

    /// The incident if the caller may see it (`not_found` otherwise, whether or not it exists).
    func visible(_ id: Int64, context: APIRequestContext) async throws -> (body: String, status: String) {
        let principal = try context.caller()
        let rows = try await client.query(
            "SELECT body, status, distributor_path FROM api_incidents WHERE id = \(id)",
            logger: context.logger
        )
        for try await (body, status, path) in rows.decode((String, String, [Int64]?).self)
        where principal.sees(path: path) {
            return (body, status)
        }
        throw APIError(.notFound, "No incident \(id) that this account may see.")
    }

    // MARK: Workflow

    struct TransitionBody: Decodable {
        var to: String
        var penaltyAmount: String?
        var reason: String?
        var comment: String?
    }

    func transition(_ request: Request, context: APIRequestContext) async throws -> JSONBody {
        let principal = try context.caller()
        try principal.require(.admin, .compliance)
        let id = try context.parameters.positiveID("id")
        let body = try await request.decode(as: TransitionBody.self, context: context)
        guard let target = IncidentWorkflow.Status(rawValue: body.to) else {
            throw APIError(
                .invalidBody,
                "to must be one of \(IncidentWorkflow.Status.allCases.map(\.rawValue).joined(separator: ", ")).",
                parameter: "to"
            )
        }
        _ = try await visible(id, context: context)
        try await passingRefusals {
            try await client.withTransaction(logger: context.logger) { connection in
                let current = try await Self.lockedStatus(id, connection: connection, logger: context.logger)
                let change: IncidentWorkflow.Change
                switch IncidentWorkflow.transition(
                    from: current,
                    to: target,
                    penalty: body.penaltyAmount,
                    reason: body.reason
                ) {
                case .success(let value): change = value
                case .failure(let refusal):
                    let code: APIError.Code = if case .notAllowed = refusal { .invalidTransition } else { .invalidBody }
                    throw APIError(code, refusal.message, parameter: refusal.field)
                }
                let penalty = change.penalty
                let reason = change.dismissalReason
                try await connection.query(
                    """
                    UPDATE incidents SET status = \(change.to.rawValue), penalty_amount = \(penalty)::numeric,
                           dismissal_reason = CASE WHEN \(change.to.rawValue) = 'dismissed' THEN \(reason) END,
                           updated_at = now()
                    WHERE id = \(id)
                    """,
                    logger: context.logger
                )
                try await Self.record(
                    id,
                    action: "status_changed",
                    principal: principal,
                    from: change.from.rawValue,
                    to: change.to.rawValue,
                    comment: body.comment ?? reason,
                    details: penalty.map { "{\"penalty_amount\":\"\($0)\"}" } ?? "{}",
                    connection: connection,
                    logger: context.logger
                )
            }
        }
        return JSONBody(try await visible(id, context: context).body)
    }

    struct AssignmentBody: Decodable {
        var accountId: Int64?
        var comment: String?
    }

    func assign(_ request: Request, context: APIRequestContext) async throws -> JSONBody {
        let principal = try context.caller()
        try principal.require(.admin, .compliance)
        let id = try context.parameters.positiveID("id")
        let body = try await request.decode(as: AssignmentBody.self, context: context)
        _ = try await visible(id, context: context)
        try await passingRefusals {
            try await client.withTransaction(logger: context.logger) { connection in
                _ = try await Self.lockedStatus(id, connection: connection, logger: context.logger)
                if let account = body.accountId {
                    let rows = try await connection.query(
                        "SELECT role FROM accounts WHERE id = \(account) AND status = 'active'",
                        logger: context.logger
                    )
                    var role: String?
                    for try await value in rows.decode(String.self) { role = value }
                    guard let role else {
                        throw APIError(.invalidBody, "No active account \(account).", parameter: "account_id")
                    }
                    guard role == "admin" || role == "compliance" else {
                        throw APIError(
                            .invalidBody,
                            "Incidents are assigned to admin or compliance accounts; account \(account) is \(role).",
                            parameter: "account_id"
                        )
                    }
                }
                try await connection.query(
                    "UPDATE incidents SET assignee_account_id = \(body.accountId), updated_at = now() WHERE id = \(id)",
                    logger: context.logger
                )
                try await Self.record(
                    id,
                    action: "assigned",
                    principal: principal,
                    comment: body.comment,
                    details: "{\"assignee_account_id\":\(body.accountId.map { "\($0)" } ?? "null")}",
                    connection: connection,
                    logger: context.logger
                )
            }
        }
        return JSONBody(try await visible(id, context: context).body)
    }

    struct CommentBody: Decodable {
        var comment: String
    }

    func comment(_ request: Request, context: APIRequestContext) async throws -> Response {
        let principal = try context.caller()
        try principal.require(.admin, .compliance)
        let id = try context.parameters.positiveID("id")
        let body = try await request.decode(as: CommentBody.self, context: context)
        let text = body.comment.trimmingSpaces
        guard !text.isEmpty, text.count <= 10_000 else {
            throw APIError(.invalidBody, "comment must be 1 to 10,000 characters.", parameter: "comment")
        }
        _ = try await visible(id, context: context)
        try await passingRefusals {
            try await client.withTransaction(logger: context.logger) { connection in
                _ = try await Self.lockedStatus(id, connection: connection, logger: context.logger)
                try await Self.record(
                    id,
                    action: "commented",
                    principal: principal,
                    comment: text,
                    connection: connection,
                    logger: context.logger
                )
            }
        }
        return Response(status: .noContent)
    }

    static func lockedStatus(
        _ id: Int64,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> IncidentWorkflow.Status {
        let rows = try await connection.query(
            "SELECT status FROM incidents WHERE id = \(id) FOR UPDATE",
            logger: logger
        )
        for try await status in rows.decode(String.self) {
            if let status = IncidentWorkflow.Status(rawValue: status) { return status }
        }
        throw APIError(.notFound, "No incident \(id).")
    }

    static func record(
        _ id: Int64,
        action: String,
        principal: Principal,
        from: String? = nil,
        to: String? = nil,
        comment: String?,
        details: String = "{}",
        connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO incident_events (incident_id, account_id, action, from_status, to_status, comment, details)
            VALUES (\(id), \(principal.accountID), \(action), \(from), \(to), \(comment), \(details)::jsonb)
            """,
            logger: logger
        )
    }
}

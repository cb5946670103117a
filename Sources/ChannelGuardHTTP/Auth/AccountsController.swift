import Foundation
import Hummingbird
import PostgresNIO

/// `GET /v1/me` (who the token belongs to) and `POST /v1/tokens` (admins: a token for an account,
/// created with its role when new).
struct AccountsController {
    let client: PostgresClient
    let authenticator: TokenAuthenticator

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("me", use: me)
        group.get("tokens", use: listTokens)
        group.post("tokens", use: createToken)
        group.delete("tokens/:id", use: revokeToken)
    }

    /// `GET /v1/tokens` (admins): every token, newest first — its prefix, never the token.
    func listTokens(_ request: Request, context: APIRequestContext) async throws -> JSONPage {
        try context.caller().require(.admin)
        let query = try QueryReader(request, allowed: ["limit", "cursor"])
        let limit = try query.limit()
        let before = try query.cursor()
        let rows = try await client.query(
            """
            SELECT t.id, jsonb_strip_nulls(jsonb_build_object(
                'id', t.id, 'name', t.name, 'prefix', t.token_prefix,
                'account', jsonb_build_object('id', a.id, 'username', a.username, 'role', a.role,
                                              'distributor_id', a.distributor_id),
                'created_at', api_time(t.created_at), 'expires_at', api_time(t.expires_at),
                'last_used_at', api_time(t.last_used_at), 'revoked_at', api_time(t.revoked_at)))::text
            FROM api_tokens t JOIN accounts a ON a.id = t.account_id
            WHERE (\(before)::int8 IS NULL OR t.id < \(before)::int8)
            ORDER BY t.id DESC LIMIT \(limit + 1)
            """,
            logger: context.logger
        )
        var found: [(id: Int64, body: String)] = []
        for try await (id, body) in rows.decode((Int64, String).self) { found.append((id, body)) }
        return JSONPage(rows: found, limit: limit)
    }

    /// `DELETE /v1/tokens/{id}` (admins): revokes a token at once.
    func revokeToken(_ request: Request, context: APIRequestContext) async throws -> Response {
        try context.caller().require(.admin)
        let id = try context.parameters.positiveID("id")
        let rows = try await client.query(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id) RETURNING id",
            logger: context.logger
        )
        var found = false
        for try await _ in rows.decode(Int64.self) { found = true }
        guard found else { throw APIError(.notFound, "No token \(id).") }
        authenticator.forgetAll()
        return Response(status: .noContent)
    }

    struct Me: ResponseEncodable {
        var accountId: Int64
        var username: String
        var role: String
        var distributorId: Int64?
    }

    func me(_ request: Request, context: APIRequestContext) async throws -> Me {
        let principal = try context.caller()
        _ = try QueryReader(request, allowed: [])
        return Me(
            accountId: principal.accountID,
            username: principal.username,
            role: principal.role.rawValue,
            distributorId: principal.distributorID
        )
    }

    struct TokenBody: Decodable {
        var username: String
        var role: String
        var distributorId: Int64?
        var name: String?
        var expiresAt: String?
    }

    func createToken(_ request: Request, context: APIRequestContext) async throws -> Response {
        try context.caller().require(.admin)
        let body = try await request.decode(as: TokenBody.self, context: context)
        guard let role = Principal.Role(rawValue: body.role) else {
            throw APIError(
                .invalidBody,
                "role must be one of \(Principal.Role.allCases.map(\.rawValue).joined(separator: ", ")).",
                parameter: "role"
            )
        }
        var expires: Date?
        if let text = body.expiresAt {
            guard let date = APITime.parse(text), date > Date() else {
                throw APIError(.invalidBody, "expires_at must be a future RFC 3339 time.", parameter: "expires_at")
            }
            expires = date
        }
        let issued = try await APITokens.issue(
            username: body.username,
            role: role,
            distributorID: body.distributorId,
            name: body.name ?? "api",
            expiresAt: expires,
            client: client,
            logger: context.logger
        )
        let data = try JSONEncoder.api.encode(issued)
        return JSONBody(String(decoding: data, as: UTF8.self)).response(status: .created)
    }
}

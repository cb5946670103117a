import Foundation
import Hummingbird
import PostgresNIO

/// `GET /v1/me` (who the token belongs to) and `POST /v1/tokens` (admins: a token for an account,
/// created with its role when new).
struct AccountsController {
    let client: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("me", use: me)
        group.post("tokens", use: createToken)
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

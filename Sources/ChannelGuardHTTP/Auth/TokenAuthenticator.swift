import Foundation
import Hummingbird
import PostgresNIO
import Synchronization

/// Identifies the caller of every `/v1` route from `Authorization: Bearer <token>` (or, for
/// browsers' `EventSource` and `WebSocket`, which cannot set headers, an `access_token` query
/// parameter). Refuses the request with `unauthenticated` otherwise.
///
/// Known tokens are cached for a few seconds, so a live stream's reconnects and a busy client cost
/// no database round trip each; a revoked token stops working within ``cacheSeconds``.
public struct TokenAuthenticator: RouterMiddleware {
    public typealias Context = APIRequestContext

    let client: PostgresClient
    let cache: Cache
    static let cacheSeconds = 5.0

    final class Cache: Sendable {
        let entries = Mutex<[[UInt8]: (principal: Principal, until: Date)]>([:])
    }

    public init(client: PostgresClient) {
        self.client = client
        self.cache = Cache()
    }

    public func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.principal = try await authenticate(request, logger: context.logger)
        return try await next(request, context)
    }

    /// Drops every cached token (a revocation takes effect at once on this server).
    public func forgetAll() {
        cache.entries.withLock { $0.removeAll() }
    }

    /// The principal of a request's token.
    public func authenticate(_ request: Request, logger: Logger) async throws -> Principal {
        guard let token = Self.token(of: request) else {
            throw APIError(
                .unauthenticated,
                "A bearer token is required (Authorization: Bearer …, or ?access_token= for streams)."
            )
        }
        return try await principal(token: token, logger: logger)
    }

    static func token(of request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
            return nil
        }
        return request.uri.queryParameters.get("access_token")
    }

    func principal(token: String, logger: Logger) async throws -> Principal {
        let hash = APITokens.hash(token)
        let now = Date()
        if let cached = cache.entries.withLock({ $0[hash] }), cached.until > now { return cached.principal }
        let rows = try await client.query(
            """
            UPDATE api_tokens t SET last_used_at = now()
            FROM accounts a
            WHERE t.token_hash = \(ByteBuffer(bytes: hash)) AND a.id = t.account_id AND t.revoked_at IS NULL
              AND (t.expires_at IS NULL OR t.expires_at > now()) AND a.status = 'active'
            RETURNING a.id, a.username, a.role, a.distributor_id
            """,
            logger: logger
        )
        var found: Principal?
        for try await (id, username, role, distributor) in rows.decode((Int64, String, String, Int64?).self) {
            guard let role = Principal.Role(rawValue: role) else { continue }
            found = Principal(accountID: id, username: username, role: role, distributorID: distributor)
        }
        guard let found else {
            cache.entries.withLock { _ = $0.removeValue(forKey: hash) }
            throw APIError(.unauthenticated, "The token is unknown, revoked or expired, or its account is disabled.")
        }
        cache.entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = (found, now.addingTimeInterval(Self.cacheSeconds))
        }
        return found
    }
}

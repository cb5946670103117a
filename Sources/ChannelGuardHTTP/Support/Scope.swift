import Hummingbird
import PostgresNIO

/// Checks that a distributor named in a request lies in the caller's subtree.
enum Scope {
    /// Refuses a distributor (a filter or a body field) outside a distributor account's subtree
    /// with `out_of_scope`; other roles may name any distributor, an unknown one is `not_found`.
    static func check(
        _ distributor: Int64?,
        of principal: Principal,
        parameter: String,
        client: PostgresClient,
        logger: Logger
    ) async throws {
        guard let distributor else { return }
        let rows = try await client.query("SELECT path FROM distributors WHERE id = \(distributor)", logger: logger)
        var path: [Int64]?
        for try await value in rows.decode([Int64].self) { path = value }
        guard let path else {
            throw APIError(.invalidParameter, "No distributor has the id \(distributor).", parameter: parameter)
        }
        guard principal.sees(path: path) else {
            throw APIError(
                .outOfScope,
                "Distributor \(distributor) is outside this account's subtree.",
                parameter: parameter
            )
        }
    }
}

extension Parameters {
    /// A positive integer path parameter (`not_found` otherwise: no such resource).
    func positiveID(_ name: String) throws -> Int64 {
        guard let text = get(name), let value = Int64(text), value > 0 else {
            throw APIError(.notFound, "No such resource: \(get(name) ?? "") is not an id.")
        }
        return value
    }
}

/// Who is calling: an account, its role and, for a distributor account, the root of the subtree of
/// the distributor tree it may see.
public struct Principal: Sendable, Hashable, Codable {
    /// The four roles of `roles` (migration 1).
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        /// Everything: accounts, tokens, webhooks, incidents, audits.
        case admin
        /// Alerts and incidents: read, assign, investigate, confirm or dismiss; webhooks.
        case compliance
        /// Read-only: alerts, incidents, audits.
        case hqAnalyst = "hq_analyst"
        /// Its own subtree of the distributor tree only, read-only.
        case distributor
    }

    public var accountID: Int64
    public var username: String
    public var role: Role
    /// Set for distributor accounts: the distributor whose subtree (itself and below) they see.
    public var distributorID: Int64?

    public init(accountID: Int64, username: String, role: Role, distributorID: Int64?) {
        self.accountID = accountID
        self.username = username
        self.role = role
        self.distributorID = distributorID
    }

    /// The subtree root this principal is confined to (`nil`: the whole tree).
    public var scope: Int64? { role == .distributor ? distributorID : nil }

    /// Whether a distributor with this root-to-self path is visible. Rows without a distributor
    /// (unknown codes) are visible to the roles without a scope only.
    public func sees(path: [Int64]?) -> Bool {
        guard let scope else { return true }
        return path?.contains(scope) ?? false
    }

    /// Incidents and webhooks are worked by admins and compliance officers.
    public var mayWorkIncidents: Bool { role == .admin || role == .compliance }

    /// Refuses the request unless the role is one of `roles`.
    public func require(_ roles: Role...) throws {
        guard roles.contains(role) else {
            throw APIError(
                .forbidden,
                "The \(role.rawValue) role may not do this; it needs \(roles.map(\.rawValue).joined(separator: " or "))."
            )
        }
    }
}

import Crypto
import Foundation
import PostgresNIO

/// API tokens: `cgt_` and 40 random base-32 characters (200 bits). Only a SHA-256 hash and the
/// first 8 characters are stored (`api_tokens`); the token itself is shown once, when it is made.
public enum APITokens {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    static let prefixLength = 8

    /// A new random token.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<40).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }
        return "cgt_" + String(decoding: characters, as: UTF8.self)
    }

    /// The stored hash of a token.
    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// What a new token was made for.
    public struct Issued: Sendable, Codable, Equatable {
        public var token: String
        public var tokenId: Int64
        public var accountId: Int64
        public var username: String
        public var role: String
        public var distributorId: Int64?
    }

    /// Makes a token for the account `username`, creating the account (with `role`, and for the
    /// distributor role the distributor whose subtree it sees) when it does not exist yet. An
    /// existing account must have that role and distributor.
    public static func issue(
        username: String,
        role: Principal.Role,
        distributorID: Int64?,
        name: String,
        expiresAt: Date? = nil,
        client: PostgresClient,
        logger: Logger
    ) async throws -> Issued {
        guard (role == .distributor) == (distributorID != nil) else {
            throw APIError(
                .invalidParameter,
                role == .distributor
                    ? "A distributor account needs the distributor whose subtree it sees."
                    : "Only distributor accounts are tied to a distributor.",
                parameter: "distributor_id"
            )
        }
        guard username.wholeMatch(of: /[a-z0-9][a-z0-9._-]{1,63}/) != nil else {
            throw APIError(
                .invalidParameter,
                "A username is 2–64 characters: lower-case letters, digits, '.', '_' and '-'.",
                parameter: "username"
            )
        }
        if let distributorID {
            let rows = try await client.query("SELECT 1 FROM distributors WHERE id = \(distributorID)", logger: logger)
            var found = false
            for try await _ in rows { found = true }
            guard found else {
                throw APIError(
                    .invalidParameter,
                    "No distributor has the id \(distributorID).",
                    parameter: "distributor_id"
                )
            }
        }
        let token = generate()
        let hash = hash(token)
        let prefix = String(token.prefix(prefixLength))
        return try await passingRefusals {
            try await client.withTransaction(logger: logger) { connection in
                let existing = try await connection.query(
                    "SELECT id, role, distributor_id FROM accounts WHERE username = \(username) FOR UPDATE",
                    logger: logger
                )
                var account: (id: Int64, role: String, distributor: Int64?)?
                for try await (id, existingRole, distributor) in existing.decode((Int64, String, Int64?).self) {
                    account = (id, existingRole, distributor)
                }
                let accountID: Int64
                if let account {
                    guard account.role == role.rawValue, account.distributor == distributorID else {
                        throw APIError(
                            .invalidParameter,
                            "The account \(username) exists with the role \(account.role)"
                                + (account.distributor.map { " for distributor \($0)" } ?? "") + ".",
                            parameter: "username"
                        )
                    }
                    accountID = account.id
                } else {
                    let inserted = try await connection.query(
                        """
                        INSERT INTO accounts (username, display_name, role, distributor_id)
                        VALUES (\(username), \(username), \(role.rawValue), \(distributorID)) RETURNING id
                        """,
                        logger: logger
                    )
                    var id: Int64 = 0
                    for try await value in inserted.decode(Int64.self) { id = value }
                    accountID = id
                }
                let rows = try await connection.query(
                    """
                    INSERT INTO api_tokens (account_id, name, token_prefix, token_hash, expires_at)
                    VALUES (\(accountID), \(name), \(prefix), \(ByteBuffer(bytes: hash)), \(expiresAt)) RETURNING id
                    """,
                    logger: logger
                )
                var tokenID: Int64 = 0
                for try await value in rows.decode(Int64.self) { tokenID = value }
                return Issued(
                    token: token,
                    tokenId: tokenID,
                    accountId: accountID,
                    username: username,
                    role: role.rawValue,
                    distributorId: distributorID
                )
            }
        }
    }
}

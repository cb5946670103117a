import ArgumentParser
import ChannelGuardHTTP
import ChannelGuardStore
import Foundation
import Logging

/// `channelguard token create`: an API token, printed on the last line (the way to the first admin).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "API tokens.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an API token for an account (created with the role when new); the token is the last line.",
            discussion: """
                Only the token's hash is stored: keep the printed token, it cannot be shown again. \
                A distributor account needs --distributor (its code or id) and sees that \
                distributor's subtree only.
                """
        )

        @OptionGroup var database: DatabaseOptions

        @Option(help: "admin, compliance, hq_analyst or distributor.")
        var role: String

        @Option(help: "The account's username (default: the role, or the distributor's code in lower case).")
        var username: String?

        @Option(help: "For the distributor role: the distributor's code or id.")
        var distributor: String?

        @Option(help: "A name for the token, to tell tokens apart.")
        var name = "cli"

        func validate() throws {
            guard let role = Principal.Role(rawValue: role) else {
                throw ValidationError("--role must be admin, compliance, hq_analyst or distributor")
            }
            guard (role == .distributor) == (distributor != nil) else {
                throw ValidationError(
                    role == .distributor
                        ? "--role distributor needs --distributor" : "--distributor is for --role distributor"
                )
            }
        }

        func run() async throws {
            let role = Principal.Role(rawValue: role)!
            let distributor = distributor
            let username = username
            let name = name
            let issued = try await database.resolve().withDatabase { url in
                try await withLibPQ(url) { _ = try Migrator().migrate($0) }
                return try await withPostgresClient(url) { client in
                    var named: (id: Int64, code: String)?
                    if let distributor {
                        named = try await client.distributor(named: distributor, logger: Logger(label: "channelguard"))
                    }
                    let distributorID = named?.id
                    let code = named?.code
                    let account =
                        username ?? code.map { $0.lowercased() }
                        ?? role.rawValue.replacingOccurrences(of: "_", with: "-")
                    return try await APITokens.issue(
                        username: account,
                        role: role,
                        distributorID: distributorID,
                        name: name,
                        client: client,
                        logger: Logger(label: "channelguard")
                    )
                }
            }
            print(
                "Token for \(issued.username) (\(issued.role)\(issued.distributorId.map { ", distributor \($0)" } ?? ""))."
            )
            print("Use it as: Authorization: Bearer <token>. It is shown once; only its hash is stored.")
            print(issued.token)
        }
    }
}

import ArgumentParser
import ChannelGuardStore

/// `channelguard migrate`: bring the schema up to date.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the schema migrations this binary carries (running it again changes nothing)."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let report = try await database.resolve().withDatabase { url in
            try await withLibPQ(url) { try Migrator().migrate($0) }
        }
        if report.applied.isEmpty {
            print("Schema already at version \(report.version); nothing to apply.")
        } else {
            print(
                "Applied migrations \(report.applied.map(String.init).joined(separator: ", ")); schema at version \(report.version)."
            )
        }
    }
}

import ArgumentParser

/// `channelguard`: the root command.
public struct ChannelGuardCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "channelguard",
        abstract: "Anti-diversion and dealer management: scan ingest, territory checks, alerts.",
        discussion: """
            ChannelGuard binds every serial a brand ships to the distributor that bought it and flags \
            scans outside that distributor's territory. Without --database-url it runs its own \
            PostgreSQL in the data directory (./.channelguard by default), so a second shell in the \
            same directory reaches the same database.

            Start here:
              channelguard serve --demo      run with the demo brand network
              channelguard db url            the database URL (last line), for psql
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, DatabaseCommand.self, DemoDataCommand.self, DecodeCommand.self,
            SendCommand.self, IndexCommand.self, ReplayCommand.self, LoadgenCommand.self, TokenCommand.self,
            AuditCommand.self,
        ]
    )

    public init() {}
}

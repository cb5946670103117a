import ArgumentParser
import ChannelGuardCommerce
import ChannelGuardStore
import Foundation

/// `channelguard demo-data`: load the deterministic demo network.
struct DemoDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-data",
        abstract: "Load the demo brand network: HQ, provincial agents, city dealers, stores, products, serials.",
        discussion: """
            The network is the same on every run; running again adds only what is missing. Ask for \
            more --serials later and the next ones in the same sequence are bound (never fewer).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Demo serials that should be bound after the load.")
    var serials = 100_000

    func validate() throws {
        guard serials >= 0 else { throw ValidationError("--serials must not be negative") }
    }

    func run() async throws {
        let serials = serials
        let started = ContinuousClock.now
        let report = try await database.resolve().withDatabase { url in
            try await withLibPQ(url) { connection in
                _ = try Migrator().migrate(connection)
                return try DemoNetworkLoader().load(connection, serials: serials)
            }
        }
        let elapsed = ContinuousClock.now - started
        print(
            """
            Demo network loaded in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2)))).
              added: \(report.distributorsAdded) distributors, \(report.territoryGrantsAdded) territory grants, \
            \(report.productsAdded) products, \(report.shipmentsAdded) shipments, \(report.serialsAdded) serials
              demo serials bound: \(report.serialsTotal)
            """
        )
    }
}

import ArgumentParser
import ChannelGuardHTTP
import ChannelGuardReports
import ChannelGuardStore
import Foundation
import Logging

/// `channelguard audit`: a territory audit as JSON, CSV or a self-contained HTML report.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Territory audit for a period, a distributor's subtree or a region: JSON, CSV or HTML.",
        discussion: """
            Units shipped, downstream scans, the share in territory, diverted units by destination \
            (the province → province flow matrix), top diverters, the daily trend and the incidents. \
            Scans come from the folded rollups: a serve that is running folds them every 30 seconds.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Start of the period (RFC 3339 time or date; default: 30 days before --to).")
    var from: String?

    @Option(help: "End of the period, exclusive (default: now).")
    var to: String?

    @Option(help: "A distributor's code or id: it and its subtree.")
    var distributor: String?

    @Option(help: "Distributors whose home region is under this region code or prefix (2, 4 or 6 digits).")
    var region: String?

    @Option(help: "json, csv or html.")
    var format = "json"

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func validate() throws {
        guard ["json", "csv", "html"].contains(format) else {
            throw ValidationError("--format must be json, csv or html")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, APITime.parse(value) == nil {
                throw ValidationError("\(name) must be an RFC 3339 time or a date")
            }
        }
        if let region, !(region.allSatisfy(\.isNumber) && [2, 4, 6].contains(region.count)) {
            throw ValidationError("--region must be 2, 4 or 6 digits")
        }
    }

    func run() async throws {
        let end = to.flatMap(APITime.parse) ?? Date()
        let start = from.flatMap(APITime.parse) ?? end.addingTimeInterval(-30 * 86_400)
        guard start < end else { throw ValidationError("--from must be before --to") }
        var prefix = region
        if let code = region, code.count == 6 {
            prefix =
                code.hasSuffix("0000") ? String(code.prefix(2)) : code.hasSuffix("00") ? String(code.prefix(4)) : code
        }
        let distributor = distributor
        let regionPrefix = prefix
        let report = try await database.resolve().withDatabase { url in
            try await withLibPQ(url) { _ = try Migrator().migrate($0) }
            return try await withPostgresClient(url) { client in
                let logger = Logger(label: "channelguard")
                var distributorID: Int64?
                if let distributor {
                    distributorID = try await client.distributor(named: distributor, logger: logger).id
                }
                return try await TerritoryAudit(client: client).run(
                    .init(from: start, to: end, distributor: distributorID, regionPrefix: regionPrefix),
                    logger: logger
                )
            }
        }
        let text =
            switch format {
            case "csv": report.csv()
            case "html": report.html()
            default: try report.json() + "\n"
            }
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
            print(
                "Wrote \(output): \(report.totals.divertedUnits) diverted units, \(report.totals.incidents) incidents."
            )
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

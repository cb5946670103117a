import ArgumentParser
import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardStore
import Foundation

/// `channelguard replay`: the event log read back — every stored batch in a time range decompressed
/// into its events, as JSON lines or protocol lines.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Print the stored scan events of a time range, as JSON lines or protocol lines.",
        discussion: """
            Reads scan_batches whose scans overlap [--from, --to), decompresses each payload and \
            prints the events scanned in that range, batch by batch in the order they were stored. \
            Times are RFC 3339 or Unix milliseconds. The line format can be sent again with \
            `channelguard send`. A batch that does not decode is reported on standard error with \
            its id and the reason, and the others are still printed (exit status 1).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, line }

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Start of the range (inclusive): RFC 3339 or Unix milliseconds.")
    var from: String = "0"

    @Option(help: "End of the range (exclusive): RFC 3339 or Unix milliseconds.")
    var to: String = "9999-12-31T23:59:59Z"

    @Option(help: "json or line.")
    var format: Format = .json

    @Option(help: "Also read the days archived to this directory (serve --retention-days), before the database's.")
    var archive: String?

    func validate() throws {
        guard Self.milliseconds(from) != nil else { throw ValidationError("--from '\(from)' is not a time") }
        guard Self.milliseconds(to) != nil else { throw ValidationError("--to '\(to)' is not a time") }
    }

    static func milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { try? ScanTime.parse($0, offset: 0) }
    }

    func run() async throws {
        let from = Self.milliseconds(from)!
        let to = Self.milliseconds(to)!
        let format = format
        let archive = archive
        let failures = try await database.resolve().withDatabase { url in
            try await withLibPQ(url) { connection in
                let print = { (batch: ScanBatch, id: Int64, gateways: [UInt32]) in
                    var out = ""
                    for index in 0..<batch.count where (from..<to).contains(batch.times[index]) {
                        switch format {
                        case .json:
                            out += batch.json(
                                at: index,
                                extra: [("batch", "\(id)"), ("gateway", "\(gateways[index])")]
                            )
                        case .line:
                            out += batch.line(at: index)
                        }
                        out += "\n"
                    }
                    Swift.print(out, terminator: "")
                }
                var failures = try archive.map { try ScanLog.replay(archive: $0, from: from, to: to, print) } ?? []
                failures += try ScanLog.replay(connection, from: from, to: to, print)
                return failures
            }
        }
        for failure in failures { FileHandle.standardError.write(Data((failure + "\n").utf8)) }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

import ChannelGuardCodes
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardReports
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

/// Territory audits: numbers that reconcile with the rollups and with the replayed batches, the
/// same numbers in JSON, CSV and HTML, and the HTML's charts rendered by headless Chromium.
@Suite(.serialized) struct AuditTests {
    static func events() -> [String] {
        var lines: [String] = []
        for index in 1...20 {
            lines.append(
                "sell 440305 2026-11-20T02:00:\(String(format: "%02d", index))Z (01)\(APIFixture.gtin)(21)SZ\(String(format: "%03d", index))"
            )
        }
        for index in 1...10 {
            lines.append(
                "activate 110105 2026-11-20T03:00:\(String(format: "%02d", index))Z (01)\(APIFixture.gtin)(21)BJ\(String(format: "%03d", index))"
            )
        }
        for index in 21...30 {
            lines.append(
                APIFixture.inspect(
                    "SZ\(String(format: "%03d", index))",
                    in: "110105",
                    at: "2026-11-21T02:00:\(String(format: "%02d", index))Z"
                )
            )
        }
        for index in 11...15 {
            lines.append(
                APIFixture.inspect(
                    "BJ\(String(format: "%03d", index))",
                    in: "440305",
                    at: "2026-11-21T04:00:\(String(format: "%02d", index))Z"
                )
            )
        }
        lines.append(APIFixture.inspect("NOPE1", in: "440305", at: "2026-11-21T05:00:00Z"))
        return lines
    }

    @Test(.database, .timeLimit(.minutes(3))) func auditNumbersReconcileWithRollupsAndReplayedBatches() async throws {
        let setup = try TestDatabase.require().connect()
        try setup.execute(APIFixture.setup)
        let admin = try APIFixture.adminToken(setup)
        try await APIHarness.run { api, ports, connection in
            try APIHarness.send(Self.events(), udp: ports.udp)
            try await APIHarness.waitForAlerts(16, connection)
            let folded = try await IngestHarness.wait {
                try connection.execute("SELECT count(*) FROM scan_batches WHERE NOT rolled_up")[0][0] == "0"
                    && connection.execute("SELECT coalesce(sum(event_count), 0) FROM scan_batches")[0][0] == "46"
            }
            try #require(folded, "the batches were not all folded into the rollups")

            let response = try await api.get("/v1/audits/territory?from=2026-11-01&to=2026-11-30", token: admin)
            try #require(response.status == 200)
            let report = try TerritoryAuditReport.decoder.decode(TerritoryAuditReport.self, from: response.body)
            let totals = report.totals
            #expect(totals.unitsShipped == 200)
            #expect(totals.downstreamScans == 45 && totals.inTerritoryScans == 30 && totals.outOfTerritoryScans == 15)
            #expect(totals.divertedUnits == 15 && totals.divertedValue == "12000.00" && totals.alerts == 15)
            #expect(totals.incidents == 2 && totals.shareInTerritory.map { abs($0 - 30.0 / 45.0) < 1e-9 } == true)
            #expect(
                Set(report.flows.map { "\($0.from.code)>\($0.to.code)=\($0.units)" }) == [
                    "440000>110000=10", "110000>440000=5",
                ]
            )
            #expect(
                report.topDiverters.map { "\($0.distributor.code)=\($0.divertedUnits)/\($0.downstreamScans)" } == [
                    "DEALER-SZ=10/30", "DEALER-BJ=5/15",
                ]
            )
            #expect(
                report.trend.map { "\($0.day) \($0.downstreamScans) \($0.outOfTerritoryScans) \($0.divertedUnits)" }
                    == ["2026-11-20 30 0 0", "2026-11-21 15 15 15"]
            )

            // The rollups say the same.
            let rollups = try connection.execute(
                """
                SELECT sum(scans) FILTER (WHERE step <> 'ship'), sum(scans) FILTER (WHERE step <> 'ship' AND NOT in_territory)
                FROM scan_rollups_hourly
                """
            )[0]
            #expect(rollups[0] == "\(totals.downstreamScans)" && rollups[1] == "\(totals.outOfTerritoryScans)")
            // So do the batches, replayed: every scan of a bound serial, by step.
            var replayed: [String: Int64] = [:]
            try ScanLog.replay(connection) { batch, _, _ in
                for index in 0..<batch.count where !batch.line(at: index).contains("NOPE") {
                    replayed[batch.steps[index].rawValue, default: 0] += 1
                }
            }
            #expect(replayed == Dictionary(uniqueKeysWithValues: report.steps.map { ($0.step, $0.scans) }))

            // CSV carries the same totals.
            let csv = try await api.get("/v1/audits/territory?from=2026-11-01&to=2026-11-30&format=csv", token: admin)
            #expect(csv.headers.first(name: "content-type")?.hasPrefix("text/csv") == true)
            let rows = Set(csv.text.components(separatedBy: "\r\n"))
            #expect(rows.isSuperset(of: ["downstream_scans,45", "diverted_units,15", "440000,广东省,110000,北京市,10"]))

            // HTML: self-contained, with its three charts, rendered by headless Chromium.
            let html = try await api.call(
                .GET,
                "/v1/audits/territory?from=2026-11-01&to=2026-11-30",
                token: admin,
                headers: [("Accept", "text/html")]
            )
            #expect(html.headers.first(name: "content-type")?.hasPrefix("text/html") == true)
            #expect(!html.text.contains("src=\"http") && !html.text.contains("href=\"http"))
            let rendered = try ChromiumRender.render(html.text)
            #expect(rendered.marks["flows"] ?? 0 >= 4, "flow matrix marks: \(rendered.marks)")
            #expect(rendered.marks["diverters"] == 2, "diverter bars: \(rendered.marks)")
            #expect(rendered.marks["trend"] ?? 0 >= 6, "trend marks: \(rendered.marks)")
            #expect(rendered.screenshotBytes > 10_000)

            // Scoped by distributor and region.
            let gd = try APIFixture.distributorID("AGENT-GD", connection)
            let subtree = try await api.get(
                "/v1/audits/territory?from=2026-11-01&to=2026-11-30&distributor=\(gd)",
                token: admin
            )
            #expect(
                subtree.json["totals"]?["diverted_units"]?.int == 10
                    && subtree.json["totals"]?["units_shipped"]?.int == 100
            )
            let region = try await api.get(
                "/v1/audits/territory?from=2026-11-01&to=2026-11-30&region=110000",
                token: admin
            )
            #expect(
                region.json["totals"]?["diverted_units"]?.int == 5
                    && region.json["filters"]?["region"]?["name"]?.string == "北京市"
            )
            let backwards = try await api.get("/v1/audits/territory?from=2026-11-30&to=2026-11-01", token: admin)
            #expect(backwards.status == 400 && backwards.errorCode == "invalid_parameter")
        }
    }
}

/// Renders an HTML page in headless Chromium (Debian's package, installed by scripts/setup.sh):
/// the DOM after its scripts ran, and a screenshot.
enum ChromiumRender {
    struct Result {
        /// Chart → marks drawn with a non-empty box (the page's `data-rendered`).
        var marks: [String: Int]
        var screenshotBytes: Int
    }

    static func executable() throws -> String {
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw SendError("headless Chromium is not installed (scripts/setup.sh installs Debian's chromium)")
    }

    static func render(_ html: String) throws -> Result {
        let chromium = try executable()
        let directory = TestCluster.root.appendingPathComponent("chromium-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: page)
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(directory.path)/profile",
            "--window-size=1200,1800",
        ]
        let dom = try run(chromium, common + ["--dump-dom", page.absoluteString])
        let screenshot = directory.appendingPathComponent("report.png")
        _ = try run(chromium, common + ["--screenshot=\(screenshot.path)", page.absoluteString])
        let png = (try? Data(contentsOf: screenshot)) ?? Data()
        guard png.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { return Result(marks: [:], screenshotBytes: 0) }
        guard let attribute = dom.firstMatch(of: /data-rendered="([^"]*)"/)?.1 else {
            return Result(marks: [:], screenshotBytes: png.count)
        }
        let json = attribute.replacingOccurrences(of: "&quot;", with: "\"")
        let marks = (try? JSONDecoder().decode([String: Int].self, from: Data(json.utf8))) ?? [:]
        return Result(marks: marks, screenshotBytes: png.count)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

import Foundation

extension TerritoryAuditReport {
    /// The report as CSV (RFC 4180), one block per table with a `# title` line before its header
    /// row and a blank line after, behind a UTF-8 byte-order mark so spreadsheets read the Chinese
    /// region names right.
    public func csv() -> String {
        var blocks: [[[String]]] = []
        let t = totals
        blocks.append([
            ["# totals"], ["metric", "value"],
            ["period_from", period.from], ["period_to", period.to],
            ["distributor", filters.distributor.map { "\($0.code) \($0.name)" } ?? ""],
            ["region", filters.region.map { "\($0.code) \($0.name)" } ?? ""],
            ["units_shipped", "\(t.unitsShipped)"], ["downstream_scans", "\(t.downstreamScans)"],
            ["in_territory_scans", "\(t.inTerritoryScans)"], ["out_of_territory_scans", "\(t.outOfTerritoryScans)"],
            ["share_in_territory", t.shareInTerritory.map { Self.decimal($0, places: 4) } ?? ""],
            ["diverted_units", "\(t.divertedUnits)"], ["diverted_value", t.divertedValue], ["alerts", "\(t.alerts)"],
            ["incidents", "\(t.incidents)"], ["incidents_confirmed", "\(t.incidentsConfirmed)"],
            ["penalties", t.penalties],
        ])
        blocks.append(
            [["# steps"], ["step", "scans", "in_territory"]]
                + steps.map { [$0.step, "\($0.scans)", "\($0.inTerritory)"] }
        )
        blocks.append(
            [["# flows"], ["from_province", "from_name", "to_province", "to_name", "units"]]
                + flows.map { [$0.from.code, $0.from.name, $0.to.code, $0.to.name, "\($0.units)"] }
        )
        blocks.append(
            [
                ["# top_diverters"],
                [
                    "code", "name", "tier", "diverted_units", "downstream_scans", "out_of_territory_scans",
                    "diverted_value",
                ],
            ]
                + topDiverters.map {
                    [
                        $0.distributor.code, $0.distributor.name, $0.tier, "\($0.divertedUnits)",
                        "\($0.downstreamScans)",
                        "\($0.outOfTerritoryScans)", $0.divertedValue,
                    ]
                }
        )
        blocks.append(
            [["# trend"], ["day", "downstream_scans", "out_of_territory_scans", "diverted_units"]]
                + trend.map { [$0.day, "\($0.downstreamScans)", "\($0.outOfTerritoryScans)", "\($0.divertedUnits)"] }
        )
        blocks.append(
            [
                ["# incidents"],
                [
                    "id", "rule", "severity", "status", "distributor", "destination", "destination_name", "units",
                    "estimated_value",
                ],
            ]
                + incidents.map {
                    [
                        "\($0.id)", $0.rule, $0.severity, $0.status, $0.distributor ?? "", $0.destination.code,
                        $0.destination.name, "\($0.units)", $0.estimatedValue,
                    ]
                }
        )
        let text = blocks.map { block in
            block.map { $0.map(Self.field).joined(separator: ",") }.joined(separator: "\r\n")
        }
        .joined(separator: "\r\n\r\n")
        return "\u{FEFF}" + text + "\r\n"
    }

    /// A CSV field, quoted when it holds a comma, quote or line break. A leading `=`, `+`, `-`
    /// or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
    static func field(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        fraction = String(repeating: "0", count: max(0, places - fraction.count)) + fraction
        return "\(whole).\(fraction)"
    }
}

import Foundation

extension TerritoryAuditReport {
    /// The report as one self-contained HTML page (inline CSS and SVG, no external resource) that
    /// HQ can mail around: totals, the province → province flow matrix as a heat map, the top
    /// diverters as bars, the daily trend as lines, and the incidents.
    ///
    /// A short script records in `<html data-rendered>` how many marks each chart drew with a
    /// non-empty box, so a headless browser can confirm the charts rendered.
    public func html() -> String {
        let t = totals
        let title = "Territory audit " + period.from.prefix(10) + " – " + period.to.prefix(10)
        var scope: [String] = []
        if let distributor = filters.distributor { scope.append("distributor \(distributor.code) \(distributor.name)") }
        if let region = filters.region { scope.append("region \(region.name) (\(region.code))") }
        let cards: [(String, String)] = [
            ("Units shipped", Self.grouped(t.unitsShipped)),
            ("Downstream scans", Self.grouped(t.downstreamScans)),
            ("In territory", t.shareInTerritory.map { Self.decimal($0 * 100, places: 1) + "%" } ?? "–"),
            ("Diverted units", Self.grouped(t.divertedUnits)),
            ("Diverted value", "¥" + t.divertedValue),
            ("Incidents", "\(t.incidents) (\(t.incidentsConfirmed) confirmed)"),
        ]
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",Arial,sans-serif;margin:24px;color:#1d2733;background:#fff}
            h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dde3ea;padding-bottom:4px}
            .meta{color:#5b6b7c;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
            .card{border:1px solid #dde3ea;border-radius:6px;padding:10px 14px;min-width:140px}
            .card b{display:block;font-size:20px}.card span{font-size:12px;color:#5b6b7c}
            table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eef1f4;padding:4px 8px;text-align:left}
            td.n,th.n{text-align:right}svg text{font-size:11px;fill:#1d2733}
            </style></head><body>
            <h1>\(Self.escape(title))</h1>
            <div class="meta">\(Self.escape(scope.isEmpty ? "whole network" : scope.joined(separator: ", "))) · generated \(Self.escape(generatedAt))</div>
            <div class="cards">\(cards.map { "<div class=\"card\"><span>\(Self.escape($0.0))</span><b>\(Self.escape($0.1))</b></div>" }.joined())</div>
            <h2>Where diverted units went (province → province)</h2>
            \(flowMatrix())
            <h2>Top diverters</h2>
            \(diverterBars())
            <h2>Daily trend</h2>
            \(trendChart())
            <h2>Incidents</h2>
            \(incidentTable())
            """
        page += """
            <script>
            (function () {
              var result = {};
              document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
                var marks = 0;
                svg.querySelectorAll("rect.mark, polyline.mark, circle.mark").forEach(function (mark) {
                  var box = mark.getBBox();
                  if (box.width > 0 || box.height > 0) marks += 1;
                });
                result[svg.getAttribute("data-chart")] = marks;
              });
              document.documentElement.setAttribute("data-rendered", JSON.stringify(result));
            })();
            </script>
            </body></html>

            """
        return page
    }

    func flowMatrix() -> String {
        guard !flows.isEmpty else { return "<p class=\"meta\">No diverted units in this period.</p>" }
        func ranked(_ key: (Flow) -> Named) -> [Named] {
            var totals: [Named: Int64] = [:]
            for flow in flows { totals[key(flow), default: 0] += flow.units }
            return totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.code < $1.key.code }.prefix(12)
                .map(\.key)
        }
        let sources = ranked(\.from)
        let destinations = ranked(\.to)
        var cells: [String: Int64] = [:]
        for flow in flows { cells[flow.from.code + ">" + flow.to.code, default: 0] += flow.units }
        let maximum = max(cells.values.max() ?? 1, 1)
        let cell = (width: 52, height: 28)
        let left = 120
        let top = 96
        let width = left + destinations.count * cell.width + 10
        let height = top + sources.count * cell.height + 10
        var svg =
            "<svg data-chart=\"flows\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"Flow matrix\">"
        for (column, destination) in destinations.enumerated() {
            let x = left + column * cell.width + cell.width / 2
            svg += "<text transform=\"translate(\(x),\(top - 6)) rotate(-45)\">\(Self.escape(destination.name))</text>"
        }
        for (row, source) in sources.enumerated() {
            let y = top + row * cell.height
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(y + cell.height / 2 + 4)\" text-anchor=\"end\">\(Self.escape(source.name))</text>"
            for (column, destination) in destinations.enumerated() {
                let x = left + column * cell.width
                let units = cells[source.code + ">" + destination.code] ?? 0
                let shade = units == 0 ? "#f4f6f8" : Self.heat((Double(units) / Double(maximum)).squareRoot())
                svg +=
                    "<rect class=\"mark\" x=\"\(x)\" y=\"\(y)\" width=\"\(cell.width - 2)\" height=\"\(cell.height - 2)\" fill=\"\(shade)\">"
                svg += "<title>\(Self.escape(source.name)) → \(Self.escape(destination.name)): \(units)</title></rect>"
                if units > 0 {
                    let ink = Double(units) / Double(maximum) > 0.45 ? "#fff" : "#1d2733"
                    svg +=
                        "<text x=\"\(x + cell.width / 2 - 1)\" y=\"\(y + cell.height / 2 + 4)\" text-anchor=\"middle\" style=\"fill:\(ink)\">\(units)</text>"
                }
            }
        }
        return svg
            + "</svg><p class=\"meta\">Rows: the diverting distributor's home province. Columns: where the units were scanned. Distinct units.</p>"
    }

    func diverterBars() -> String {
        guard !topDiverters.isEmpty else { return "<p class=\"meta\">No diverters in this period.</p>" }
        let maximum = max(topDiverters.map(\.divertedUnits).max() ?? 1, 1)
        let row = 26
        let left = 260
        let barWidth = 420
        var svg =
            "<svg data-chart=\"diverters\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + barWidth + 120)\" height=\"\(topDiverters.count * row + 10)\" role=\"img\" aria-label=\"Top diverters\">"
        for (index, diverter) in topDiverters.enumerated() {
            let y = index * row + 4
            let width = max(2, Int(Double(barWidth) * Double(diverter.divertedUnits) / Double(maximum)))
            let label = diverter.distributor.code + " " + diverter.distributor.name
            svg +=
                "<text x=\"\(left - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">\(Self.escape(String(label.prefix(40))))</text>"
            svg +=
                "<rect class=\"mark\" x=\"\(left)\" y=\"\(y)\" width=\"\(width)\" height=\"\(row - 8)\" fill=\"#c0392b\"/>"
            svg +=
                "<text x=\"\(left + width + 6)\" y=\"\(y + 15)\">\(diverter.divertedUnits) units · ¥\(Self.escape(diverter.divertedValue))</text>"
        }
        return svg + "</svg>"
    }

    func trendChart() -> String {
        guard !trend.isEmpty else { return "<p class=\"meta\">No scans in this period.</p>" }
        let width = 760
        let height = 240
        let pad = (left: 60, right: 20, top: 16, bottom: 40)
        let maximum = max(trend.map { max($0.downstreamScans, $0.outOfTerritoryScans) }.max() ?? 1, 1)
        let plotWidth = width - pad.left - pad.right
        let plotHeight = height - pad.top - pad.bottom
        func x(_ index: Int) -> Int {
            trend.count == 1 ? pad.left + plotWidth / 2 : pad.left + index * plotWidth / (trend.count - 1)
        }
        func y(_ value: Int64) -> Int {
            pad.top + plotHeight - Int(Double(plotHeight) * Double(value) / Double(maximum))
        }
        var svg =
            "<svg data-chart=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"Daily trend\">"
        svg +=
            "<line x1=\"\(pad.left)\" y1=\"\(pad.top + plotHeight)\" x2=\"\(width - pad.right)\" y2=\"\(pad.top + plotHeight)\" stroke=\"#9aa7b4\"/>"
        svg +=
            "<line x1=\"\(pad.left)\" y1=\"\(pad.top)\" x2=\"\(pad.left)\" y2=\"\(pad.top + plotHeight)\" stroke=\"#9aa7b4\"/>"
        svg += "<text x=\"\(pad.left - 6)\" y=\"\(pad.top + 4)\" text-anchor=\"end\">\(Self.grouped(maximum))</text>"
        svg += "<text x=\"\(pad.left - 6)\" y=\"\(pad.top + plotHeight)\" text-anchor=\"end\">0</text>"
        for (series, color) in [(\Day.downstreamScans, "#2e86de"), (\Day.outOfTerritoryScans, "#c0392b")] {
            let points = trend.enumerated().map { "\(x($0.offset)),\(y($0.element[keyPath: series]))" }.joined(
                separator: " "
            )
            svg +=
                "<polyline class=\"mark\" points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            for (index, day) in trend.enumerated() {
                svg +=
                    "<circle class=\"mark\" cx=\"\(x(index))\" cy=\"\(y(day[keyPath: series]))\" r=\"3\" fill=\"\(color)\"/>"
            }
        }
        let step = max(1, trend.count / 8)
        for (index, day) in trend.enumerated() where index % step == 0 {
            svg +=
                "<text x=\"\(x(index))\" y=\"\(height - 18)\" text-anchor=\"middle\">\(Self.escape(String(day.day.suffix(5))))</text>"
        }
        svg +=
            "<rect x=\"\(pad.left + 10)\" y=\"\(height - 12)\" width=\"10\" height=\"10\" fill=\"#2e86de\"/><text x=\"\(pad.left + 24)\" y=\"\(height - 3)\">downstream scans</text>"
        svg +=
            "<rect x=\"\(pad.left + 150)\" y=\"\(height - 12)\" width=\"10\" height=\"10\" fill=\"#c0392b\"/><text x=\"\(pad.left + 164)\" y=\"\(height - 3)\">out of territory</text>"
        return svg + "</svg>"
    }

    func incidentTable() -> String {
        guard !incidents.isEmpty else { return "<p class=\"meta\">No incidents in this period.</p>" }
        var table =
            "<table><tr><th>#</th><th>Rule</th><th>Severity</th><th>Status</th><th>Distributor</th><th>Destination</th><th class=\"n\">Units</th><th class=\"n\">Value (¥)</th></tr>"
        for incident in incidents {
            table +=
                "<tr><td>\(incident.id)</td><td>\(Self.escape(incident.rule))</td><td>\(Self.escape(incident.severity))</td>"
            table += "<td>\(Self.escape(incident.status))</td><td>\(Self.escape(incident.distributor ?? "–"))</td>"
            table += "<td>\(Self.escape(incident.destination.name)) (\(incident.destination.code))</td>"
            table +=
                "<td class=\"n\">\(incident.units)</td><td class=\"n\">\(Self.escape(incident.estimatedValue))</td></tr>"
        }
        return table + "</table>"
    }

    static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func grouped(_ value: Int64) -> String {
        let digits = Array(String(value.magnitude))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// White → dark red.
    static func heat(_ fraction: Double) -> String {
        let f = min(max(fraction, 0), 1)
        let from = (255.0, 237.0, 222.0)
        let to = (153.0, 27.0, 30.0)
        func channel(_ a: Double, _ b: Double) -> String {
            let value = Int((a + (b - a) * f).rounded())
            let hex = String(value, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(from.0, to.0) + channel(from.1, to.1) + channel(from.2, to.2)
    }
}

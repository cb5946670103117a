import Foundation
import Hummingbird

/// Reads an endpoint's query parameters, refusing unknown ones and malformed values with
/// `invalid_parameter` naming the parameter: every list filters and pages the same way.
struct QueryReader {
    let values: [String: String]

    /// `allowed` names the endpoint's parameters; `access_token` is always allowed.
    init(_ request: Request, allowed: Set<String>) throws {
        var values: [String: String] = [:]
        for (name, value) in request.uri.queryParameters {
            let name = String(name)
            guard allowed.contains(name) || name == "access_token" else {
                throw APIError(
                    .invalidParameter,
                    "Unknown parameter \(name); this endpoint takes \(allowed.sorted().joined(separator: ", ")).",
                    parameter: name
                )
            }
            guard values[name] == nil else {
                throw APIError(.invalidParameter, "The parameter \(name) is given twice.", parameter: name)
            }
            values[name] = String(value)
        }
        self.values = values
    }

    func string(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A comma-separated list whose items must be in `allowed`.
    func list(_ name: String, allowed: [String]) throws -> [String]? {
        guard let text = string(name) else { return nil }
        let items = text.split(separator: ",").map { String($0) }
        for item in items where !allowed.contains(item) {
            throw APIError(
                .invalidParameter,
                "\(name): \(item) is not one of \(allowed.joined(separator: ", ")).",
                parameter: name
            )
        }
        return items
    }

    func int64(_ name: String) throws -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = Int64(text), value > 0 else {
            throw APIError(.invalidParameter, "\(name) must be a positive integer, not \(text).", parameter: name)
        }
        return value
    }

    func date(_ name: String) throws -> Date? {
        guard let text = string(name) else { return nil }
        guard let date = APITime.parse(text) else {
            throw APIError(
                .invalidParameter,
                "\(name) must be an RFC 3339 time (2026-11-24T08:00:00Z) or a date (2026-11-24), not \(text).",
                parameter: name
            )
        }
        return date
    }

    /// A region prefix: a province (2 digits), city (4) or county (6), or a 6-digit code whose
    /// trailing zeros are dropped (`440000` → `44`).
    func regionPrefix(_ name: String) throws -> String? {
        guard let text = string(name) else { return nil }
        guard text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), [2, 4, 6].contains(text.count) else {
            throw APIError(
                .invalidParameter,
                "\(name) must be a GB/T 2260 region code or prefix of 2, 4 or 6 digits, not \(text).",
                parameter: name
            )
        }
        if text.count == 6 {
            if text.hasSuffix("0000") { return String(text.prefix(2)) }
            if text.hasSuffix("00") { return String(text.prefix(4)) }
        }
        return text
    }

    /// `limit` (1…500, default 50).
    func limit(default fallback: Int = 50) throws -> Int {
        guard let text = string("limit") else { return fallback }
        guard let value = Int(text), (1...500).contains(value) else {
            throw APIError(.invalidParameter, "limit must be between 1 and 500, not \(text).", parameter: "limit")
        }
        return value
    }

    /// `cursor`: the opaque `next_cursor` of the previous page (the last id it held).
    func cursor() throws -> Int64? {
        guard let text = string("cursor") else { return nil }
        guard text.hasPrefix("c"), let value = Int64(text.dropFirst()), value > 0 else {
            throw APIError(.invalidParameter, "cursor must be a next_cursor this API returned.", parameter: "cursor")
        }
        return value
    }

    static func cursor(after id: Int64) -> String { "c\(id)" }

    /// `format` (`json` default), or the `Accept` header's first known type.
    func format(_ request: Request, allowed: [String]) throws -> String {
        if let format = try list("format", allowed: allowed) {
            guard format.count == 1 else {
                throw APIError(.invalidParameter, "format takes one value.", parameter: "format")
            }
            return format[0]
        }
        let accept = request.headers[.accept] ?? ""
        if allowed.contains("csv"), accept.contains("text/csv") { return "csv" }
        if allowed.contains("html"), accept.contains("text/html") { return "html" }
        return "json"
    }
}

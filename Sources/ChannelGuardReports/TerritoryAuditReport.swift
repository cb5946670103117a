import Foundation

/// A territory audit: for a period and optionally a distributor's subtree or a region, how much
/// was shipped and scanned downstream, how much of it stayed in territory, where the diverted
/// units went (the province → province flow matrix), who diverted most, the daily trend, and the
/// incidents opened. Encoded with snake_case keys as the API's JSON.
public struct TerritoryAuditReport: Sendable, Codable, Equatable {
    public struct Named: Sendable, Codable, Equatable, Hashable {
        public var code: String
        public var name: String
    }

    public struct Period: Sendable, Codable, Equatable {
        public var from: String
        public var to: String
    }

    public struct Filters: Sendable, Codable, Equatable {
        public var distributor: Named?
        public var region: Named?
    }

    public struct Totals: Sendable, Codable, Equatable {
        /// Units bound to distributors by shipments in the period, plus ship scans.
        public var unitsShipped: Int64
        /// Receive, sell, activate and inspect scans of bound units.
        public var downstreamScans: Int64
        public var inTerritoryScans: Int64
        public var outOfTerritoryScans: Int64
        /// in / downstream, 0…1 (`nil` without downstream scans).
        public var shareInTerritory: Double?
        /// Distinct units with an out-of-territory alert.
        public var divertedUnits: Int64
        /// Diverted units at their distributors' prices, yuan.
        public var divertedValue: String
        public var alerts: Int64
        public var incidents: Int64
        public var incidentsConfirmed: Int64
        public var penalties: String
    }

    public struct StepCount: Sendable, Codable, Equatable {
        public var step: String
        public var scans: Int64
        public var inTerritory: Int64
    }

    public struct Flow: Sendable, Codable, Equatable {
        public var from: Named
        public var to: Named
        public var units: Int64
    }

    public struct Diverter: Sendable, Codable, Equatable {
        public var distributor: Named
        public var tier: String
        public var divertedUnits: Int64
        public var downstreamScans: Int64
        public var outOfTerritoryScans: Int64
        public var divertedValue: String
    }

    public struct Day: Sendable, Codable, Equatable {
        public var day: String
        public var downstreamScans: Int64
        public var outOfTerritoryScans: Int64
        public var divertedUnits: Int64
    }

    public struct Incident: Sendable, Codable, Equatable {
        public var id: Int64
        public var rule: String
        public var severity: String
        public var status: String
        public var distributor: String?
        public var destination: Named
        public var units: Int64
        public var estimatedValue: String
    }

    public var period: Period
    public var filters: Filters
    public var generatedAt: String
    public var totals: Totals
    public var steps: [StepCount]
    public var flows: [Flow]
    public var topDiverters: [Diverter]
    public var trend: [Day]
    public var incidents: [Incident]

    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    public func json() throws -> String {
        String(decoding: try Self.encoder.encode(self), as: UTF8.self)
    }
}

import Foundation

/// What a webhook message says about an incident: the fields of the API's incident JSON (the
/// `api_incidents` view) that the messages use.
public struct IncidentFacts: Sendable, Decodable, Equatable {
    public struct Named: Sendable, Decodable, Equatable {
        public var code: String
        public var name: String?
    }

    public var id: Int64
    public var rule: String
    public var severity: String
    public var status: String
    public var distributor: Named?
    public var destinationRegion: Named
    public var units: Int
    public var alertCount: Int
    public var firstSeen: String?
    public var lastSeen: String?
    public var estimatedValue: String
    public var penaltyAmount: String?
    public var dismissalReason: String?

    /// Decodes the API's JSON for an incident.
    public init(json: String) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = try decoder.decode(IncidentFacts.self, from: Data(json.utf8))
    }

    /// A one-line headline, e.g. "Diversion: SH-CITY-003 → 广州市 (440100), 37 units".
    public var headline: String {
        let who = distributor.map { $0.code } ?? "unknown source"
        let region = (destinationRegion.name.map { "\($0) " } ?? "") + "(\(destinationRegion.code))"
        return "\(Self.ruleTitle(rule)): \(who) → \(region), \(units) unit\(units == 1 ? "" : "s")"
    }

    static func ruleTitle(_ rule: String) -> String {
        switch rule {
        case "out_of_territory": return "Cross-region diversion"
        case "unknown_code": return "Unknown codes"
        case "duplicate": return "Duplicate or cloned serials"
        case "not_consignee": return "Received by a non-consignee"
        case "price_below_floor": return "Sales below the price floor"
        case "unknown_region": return "Scans in unknown regions"
        case "no_territory": return "Scans of units whose distributor holds no territory"
        case "unauthorised_binding": return "Scans a gateway may not send"
        default: return rule
        }
    }
}

/// The detection rules; raw values are the ones stored in `alerts.rule` and `incidents.rule`.
public enum AlertRule: String, CaseIterable, Sendable, Codable {
    /// A downstream scan outside the owning distributor's territory.
    case outOfTerritory = "out_of_territory"
    /// A well-formed code that was never shipped.
    case unknownCode = "unknown_code"
    /// The same serial sold or activated twice, or seen too far apart too quickly.
    case duplicate = "duplicate"
    /// A receiving scan by a distributor other than the consignee.
    case notConsignee = "not_consignee"
    /// A sale reported under the product's minimum retail price.
    case priceBelowFloor = "price_below_floor"
}

/// How serious an alert is; raw values are the ones stored in the database.
public enum AlertSeverity: String, CaseIterable, Sendable, Codable, Comparable {
    case low, medium, high, critical

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: AlertSeverity, rhs: AlertSeverity) -> Bool { lhs.rank < rhs.rank }
}

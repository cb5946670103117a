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
    /// A scan whose region code has the right shape but is no region of the catalogue: where the
    /// unit really was is unknown, so its territory cannot be checked.
    case unknownRegion = "unknown_region"
    /// A downstream scan of a unit whose distributor holds no territory grant in force at the scan's
    /// time: nowhere is inside, so the scan is neither an ordinary diversion nor in territory.
    case noTerritory = "no_territory"
    /// A scan a gateway may not send: a `ship` that would bind a unit its owner does not hold, or
    /// a step its kind does not allow. Refused, never applied.
    case unauthorisedBinding = "unauthorised_binding"
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

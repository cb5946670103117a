import ChannelGuardTerritory

/// Where a scan region lies relative to a distributor's territory.
public enum TerritoryVerdict: Hashable, Sendable {
    /// Inside the territory.
    case inside
    /// Outside: how far out (the nearest granted region decides) and the distance in kilometres
    /// between the scan region's centroid and the nearest granted region's centroid, when both are known.
    case outside(DiversionReach, kilometres: Double?)

    /// Evaluates a scan region against a territory.
    ///
    /// An empty territory makes every scan `outside` at province reach.
    public static func evaluate(
        scanRegion: RegionCode,
        territory: Territory,
        catalog: RegionCatalog
    ) -> TerritoryVerdict {
        if territory.contains(scanRegion) { return .inside }
        var reach = DiversionReach.otherProvince
        var nearest: Double?
        let scanPoint = catalog.centroid(of: scanRegion)
        for granted in territory.regions {
            reach = min(reach, DiversionReach(from: granted, to: scanRegion))
            if let scanPoint, let grantedPoint = catalog.centroid(of: granted) {
                let km = scanPoint.distanceKilometres(to: grantedPoint)
                nearest = min(nearest ?? km, km)
            }
        }
        return .outside(reach, kilometres: nearest)
    }

    /// The alert severity for this verdict; `nil` when inside.
    ///
    /// Other county in the same city is `low`, other city in the same province `medium`, other
    /// province `high`, and other province more than `criticalKilometres` away `critical`.
    public func severity(criticalKilometres: Double = 1_000) -> AlertSeverity? {
        switch self {
        case .inside: return nil
        case .outside(.otherCounty, _): return .low
        case .outside(.otherCity, _): return .medium
        case .outside(.otherProvince, let km):
            if let km, km > criticalKilometres { return .critical }
            return .high
        }
    }
}

/// How far outside its territory a unit turned up, from nearest to farthest.
public enum DiversionReach: Int, Hashable, Sendable, Comparable {
    /// Another county of a city the territory reaches into.
    case otherCounty = 1
    /// Another city of a province the territory reaches into.
    case otherCity = 2
    /// Another province.
    case otherProvince = 3

    /// The reach from one granted region to a scan region outside it.
    ///
    /// A scan in the same city as the granted region (another county) is `otherCounty`; in the same
    /// province but another city, `otherCity`; anywhere else, `otherProvince`.
    public init(from granted: RegionCode, to scan: RegionCode) {
        if granted.province != scan.province {
            self = .otherProvince
        } else if granted.level != .province, scan.level != .province, granted.city == scan.city {
            self = .otherCounty
        } else {
            self = .otherCity
        }
    }

    public static func < (lhs: DiversionReach, rhs: DiversionReach) -> Bool { lhs.rawValue < rhs.rawValue }
}

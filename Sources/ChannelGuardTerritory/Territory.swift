/// A distributor's territory: a set of region prefixes (provinces, cities or counties).
///
/// A scan region is inside the territory when one of the territory's regions contains it.
public struct Territory: Hashable, Sendable {
    /// The granted regions, most general first.
    public let regions: [RegionCode]

    public init(_ regions: some Sequence<RegionCode>) {
        // Drop regions already covered by a more general one; keep a stable order.
        let sorted = Set(regions).sorted { ($0.level, $0.value) < ($1.level, $1.value) }
        var kept: [RegionCode] = []
        for region in sorted where !kept.contains(where: { $0.contains(region) }) {
            kept.append(region)
        }
        self.regions = kept
    }

    /// Whether `region` lies inside the territory.
    public func contains(_ region: RegionCode) -> Bool {
        regions.contains { $0.contains(region) }
    }

    public var isEmpty: Bool { regions.isEmpty }
}

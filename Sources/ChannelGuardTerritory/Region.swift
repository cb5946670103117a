/// One administrative division with its name and centroid.
public struct Region: Hashable, Sendable {
    public let code: RegionCode
    public let name: String
    /// The centroid, when the source has one (city-district placeholders such as 市辖区 do not).
    public let centroid: GeoPoint?

    public init(code: RegionCode, name: String, centroid: GeoPoint?) {
        self.code = code
        self.name = name
        self.centroid = centroid
    }
}

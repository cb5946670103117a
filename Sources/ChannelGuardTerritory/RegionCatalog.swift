import Foundation

/// The catalogue of Chinese administrative divisions shipped with ChannelGuard.
///
/// Loaded from `regions-cn.csv` (GB/T 2260 codes with names and centroids, from the `cpca`
/// package, MIT licence in `regions-cn.LICENSE` beside it).
public struct RegionCatalog: Sendable {
    /// All regions, ordered by code.
    public let regions: [Region]
    private let byCode: [RegionCode: Int]
    /// Each region's own centroid, in the order of ``regions``: read for every scan of a serial seen
    /// elsewhere before, without copying the whole ``Region`` (which retains and releases its name).
    private let centroids: [GeoPoint?]

    public init(regions: [Region]) {
        let sorted = regions.sorted { $0.code < $1.code }
        self.regions = sorted
        centroids = sorted.map(\.centroid)
        var byCode: [RegionCode: Int] = [:]
        byCode.reserveCapacity(sorted.count)
        for (index, region) in sorted.enumerated() { byCode[region.code] = index }
        self.byCode = byCode
    }

    /// The catalogue bundled with the project, parsed once.
    public static let bundled: RegionCatalog = {
        do {
            return try RegionCatalog(csv: String(contentsOf: bundledCSVURL, encoding: .utf8))
        } catch {
            fatalError("the bundled region catalogue is damaged: \(error)")
        }
    }()

    /// Where the bundled CSV lives.
    public static var bundledCSVURL: URL {
        Bundle.module.url(forResource: "regions-cn", withExtension: "csv")!
    }

    /// Parses the `adcode,name,longitude,latitude` CSV form.
    public init(csv: String) throws(RegionCatalogError) {
        var regions: [Region] = []
        var lineNumber = 0
        for line in csv.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if lineNumber == 1 || line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 4 else { throw RegionCatalogError(line: lineNumber, reason: "expected 4 fields") }
            guard let code = RegionCode(fields[0]) else {
                throw RegionCatalogError(line: lineNumber, reason: "malformed region code '\(fields[0])'")
            }
            var centroid: GeoPoint?
            if !fields[2].isEmpty || !fields[3].isEmpty {
                guard let lon = Double(fields[2]), let lat = Double(fields[3]),
                    (-180...180).contains(lon), (-90...90).contains(lat)
                else { throw RegionCatalogError(line: lineNumber, reason: "malformed centroid") }
                centroid = GeoPoint(longitude: lon, latitude: lat)
            }
            regions.append(Region(code: code, name: String(fields[1]), centroid: centroid))
        }
        self.init(regions: regions)
        if byCode.count != regions.count {
            throw RegionCatalogError(line: 0, reason: "duplicate region codes")
        }
    }

    public subscript(code: RegionCode) -> Region? {
        byCode[code].map { regions[$0] }
    }

    /// Regions at one level.
    public func regions(at level: RegionLevel) -> [Region] {
        regions.filter { $0.code.level == level }
    }

    /// The direct children of a region.
    public func children(of code: RegionCode) -> [Region] {
        regions.filter { $0.code.parent == code }
    }

    /// The centroid of a region, or of its nearest ancestor that has one.
    public func centroid(of code: RegionCode) -> GeoPoint? {
        var current: RegionCode? = code
        while let region = current {
            if let index = byCode[region], let point = centroids[index] { return point }
            current = region.parent
        }
        return nil
    }
}

/// A line of the region CSV that could not be read.
public struct RegionCatalogError: Error, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "regions CSV line \(line): \(reason)" }
}

import ChannelGuardCodes
import ChannelGuardTerritory

/// The reference data the pipeline checks scans against, besides the serial index: gateways and
/// their secrets, distributors, dated territory grants and price floors.
///
/// Immutable: a change in the database produces a new value, swapped in whole by
/// ``ReferenceDataStore`` (readers take it once per batch, never per event).
public final class ReferenceData: Sendable {
    /// A gateway allowed to send binary frames.
    public struct Gateway: Sendable, Hashable {
        public var id: UInt32
        public var secret: [UInt8]
        /// The distributor the gateway belongs to: what it ships, it ships from this owner.
        public var owner: Int64
        public var active: Bool
        public var kind: GatewayKind
        /// The steps it may send (its kind's).
        public var steps: StepSet

        public init(
            id: UInt32,
            secret: [UInt8],
            owner: Int64,
            active: Bool = true,
            kind: GatewayKind = .warehousePDA,
            steps: StepSet? = nil
        ) {
            self.id = id
            self.secret = secret
            self.owner = owner
            self.active = active
            self.kind = kind
            self.steps = steps ?? kind.steps
        }
    }

    /// A territory grant in force from `from` (inclusive) to `to` (exclusive), Unix milliseconds.
    public struct Grant: Sendable, Hashable {
        public var region: RegionCode
        public var from: Int64
        public var to: Int64?

        public init(region: RegionCode, from: Int64 = .min, to: Int64? = nil) {
            self.region = region
            self.from = from
            self.to = to
        }

        @inlinable @inline(__always)
        public func isValid(at time: Int64) -> Bool { time >= from && (to.map { time < $0 } ?? true) }
    }

    /// A minimum retail price: nationwide when `region` is `nil`, else for the regions under it.
    public struct PriceFloor: Sendable, Hashable {
        public var region: RegionCode?
        /// The floor in fen.
        public var minimum: Int64
        public var from: Int64
        public var to: Int64?

        public init(region: RegionCode?, minimum: Int64, from: Int64 = .min, to: Int64? = nil) {
            self.region = region
            self.minimum = minimum
            self.from = from
            self.to = to
        }
    }

    public let gateways: [UInt32: Gateway]
    /// The prepared HMAC keys of the active gateways.
    package let frameKeys: [UInt32: FrameKey]
    /// Territory grants by distributor id.
    public let grants: [Int64: [Grant]]
    /// Distributor ids by code (scan parties name distributors by code).
    public let distributorIDs: [String: Int64]
    /// Each distributor's parent in the tree (roots, such as HQ, have none).
    public let parents: [Int64: Int64]
    /// Price floors by GTIN.
    public let floors: [UInt64: [PriceFloor]]
    /// The reference-change sequence this value reflects.
    public let version: Int64
    /// Regions known to the catalogue: one bit per six-digit code.
    @usableFromInline let knownRegions: [UInt64]
    public let catalog: RegionCatalog
    /// ``grants`` laid out for ``isInside(_:distributor:at:)``.
    @usableFromInline let grantTable: GrantTable

    public init(
        gateways: [Gateway] = [],
        grants: [Int64: [Grant]] = [:],
        distributorIDs: [String: Int64] = [:],
        parents: [Int64: Int64] = [:],
        floors: [UInt64: [PriceFloor]] = [:],
        version: Int64 = 0,
        catalog: RegionCatalog = .bundled
    ) {
        self.gateways = Dictionary(gateways.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        frameKeys = self.gateways.compactMapValues { $0.active ? FrameKey(secret: $0.secret) : nil }
        self.grants = grants
        grantTable = GrantTable(grants)
        self.distributorIDs = distributorIDs
        self.parents = parents
        self.floors = floors
        self.version = version
        self.catalog = catalog
        var bits = [UInt64](repeating: 0, count: 1_000_000 / 64 + 1)
        for region in catalog.regions {
            let value = Int(region.code.value)
            bits[value >> 6] |= 1 << UInt64(value & 63)
        }
        knownRegions = bits
    }

    /// Whether a six-digit code is a region of the catalogue.
    @inlinable @inline(__always)
    public func isKnownRegion(_ value: UInt32) -> Bool {
        guard value < 1_000_000 else { return false }
        return knownRegions[Int(value >> 6)] & (1 << UInt64(value & 63)) != 0
    }

    /// Whether `region` lies inside the territory `distributor` holds at `time`.
    @inlinable @inline(__always)
    public func isInside(_ region: RegionCode, distributor: Int64, at time: Int64) -> Bool {
        grantTable.isInside(region, distributor: distributor, at: time)
    }

    /// Whether `upstream` is an ancestor of `distributor` in the tree (its parent, its parent's
    /// parent, …). A distributor is not its own ancestor.
    public func isAncestor(_ upstream: Int64, of distributor: Int64) -> Bool {
        var current = distributor
        // The database forbids cycles; the bound keeps a damaged row from looping.
        for _ in 0..<64 {
            guard let parent = parents[current] else { return false }
            if parent == upstream { return true }
            current = parent
        }
        return false
    }

    /// The territory `distributor` holds at `time`.
    public func territory(of distributor: Int64, at time: Int64) -> Territory {
        Territory((grants[distributor] ?? []).filter { $0.isValid(at: time) }.map(\.region))
    }

    /// The price floor of a GTIN in a region at a time, in fen: the most specific region's floor
    /// in force, else the nationwide one.
    public func floor(gtin: UInt64, region: RegionCode, at time: Int64) -> Int64? {
        guard let floors = floors[gtin] else { return nil }
        var best: (level: Int, minimum: Int64)?
        for floor in floors where time >= floor.from && (floor.to.map { time < $0 } ?? true) {
            let level: Int
            if let scope = floor.region {
                guard scope.contains(region) else { continue }
                level = scope.level.rawValue
            } else {
                level = 0
            }
            if best == nil || level > best!.level { best = (level, floor.minimum) }
        }
        return best?.minimum
    }
}

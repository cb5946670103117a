import ChannelGuardCodes
import ChannelGuardDetection
import ChannelGuardIndex
import ChannelGuardTerritory

/// The detection rules for one downstream scan: pure, given the serial's binding as it was before
/// the scan and the reference data; no I/O, so each rule is tested on its own.
public struct ScanRules: Sendable {
    /// Faster than this between two scans of one serial is a clone (`duplicate`), km/h.
    public var impossibleSpeed: Double
    /// Scans this close (km) never count as travel: neighbouring county centroids.
    public var travelToleranceKilometres: Double
    /// Beyond this distance an out-of-province diversion is `critical`.
    public var criticalKilometres: Double

    public init(
        impossibleSpeed: Double = 900,
        travelToleranceKilometres: Double = 150,
        criticalKilometres: Double = 1_000
    ) {
        self.impossibleSpeed = impossibleSpeed
        self.travelToleranceKilometres = travelToleranceKilometres
        self.criticalKilometres = criticalKilometres
    }

    /// One scan, as the rules see it.
    public struct Scan {
        public var step: ScanStep
        public var region: UInt32
        public var time: Int64
        public var kind: ScanBatch.KeyKind
        public var key: UInt64
        public var price: Int64
        /// The scanning party's distributor id, when the scan names a known one.
        public var party: Int64?

        public init(
            step: ScanStep,
            region: UInt32,
            time: Int64,
            kind: ScanBatch.KeyKind,
            key: UInt64,
            price: Int64 = -1,
            party: Int64? = nil
        ) {
            self.step = step
            self.region = region
            self.time = time
            self.kind = kind
            self.key = key
            self.price = price
            self.party = party
        }
    }

    /// A rule that fired: what the alert needs beyond the scan itself.
    public struct Finding: Sendable, Hashable {
        public var rule: AlertRule
        public var severity: AlertSeverity
        public var distanceKilometres: Double? = nil
        public var territory: [UInt32] = []
        public var floor: Int64? = nil
        public var previousRegion: UInt32? = nil
        public var previousTime: Int64? = nil
        public var detail: String
    }

    /// Whether the scan is inside the owner's territory (for rollups), and what fired.
    public func check(
        _ scan: Scan,
        binding: SerialBinding?,
        reference: ReferenceData,
        into findings: inout [Finding]
    ) -> Bool {
        guard let binding else {
            findings.append(Finding(rule: .unknownCode, severity: .medium, detail: "no shipment binds this code"))
            return false
        }
        let owner = binding.distributor
        guard let region = RegionCode(value: scan.region) else { return false }
        let inside = reference.isInside(region, distributor: owner, at: scan.time)
        if !inside {
            let territory = reference.territory(of: owner, at: scan.time)
            let verdict = TerritoryVerdict.evaluate(
                scanRegion: region,
                territory: territory,
                catalog: reference.catalog
            )
            if case .outside(let reach, let km) = verdict {
                findings.append(
                    Finding(
                        rule: .outOfTerritory,
                        severity: verdict.severity(criticalKilometres: criticalKilometres) ?? .high,
                        distanceKilometres: km,
                        territory: territory.regions.map(\.value),
                        detail: "scanned in \(region) (\(reach)), outside distributor \(owner)'s territory"
                    )
                )
            }
        }
        if scan.step == .receive, let party = scan.party, party != owner {
            findings.append(
                Finding(
                    rule: .notConsignee,
                    severity: .high,
                    detail: "received by distributor \(party); shipped to distributor \(owner)"
                )
            )
        }
        let repeated: String? =
            switch scan.step {
            case .sell where binding.flags.contains(.sold): "sold a second time"
            case .activate where binding.flags.contains(.activated): "activated a second time"
            default: nil
            }
        if let repeated {
            findings.append(
                Finding(
                    rule: .duplicate,
                    severity: .high,
                    previousRegion: binding.lastRegion,
                    previousTime: binding.lastTime,
                    detail: repeated
                )
            )
        } else if let travel = impossibleTravel(scan, region: region, binding: binding, catalog: reference.catalog) {
            findings.append(travel)
        }
        if scan.step == .sell, scan.price >= 0, scan.kind == .item,
            let floor = reference.floor(gtin: scan.key, region: region, at: scan.time), scan.price < floor
        {
            findings.append(
                Finding(
                    rule: .priceBelowFloor,
                    severity: .medium,
                    floor: floor,
                    detail: "sold at \(scan.price) fen, floor \(floor) fen"
                )
            )
        }
        return inside
    }

    /// A second sighting farther from the last one than travel allows in the time between.
    func impossibleTravel(_ scan: Scan, region: RegionCode, binding: SerialBinding, catalog: RegionCatalog) -> Finding?
    {
        guard let lastTime = binding.lastTime, binding.lastRegion != scan.region,
            let last = RegionCode(value: binding.lastRegion),
            let here = catalog.centroid(of: region), let there = catalog.centroid(of: last)
        else { return nil }
        let km = here.distanceKilometres(to: there)
        guard km > travelToleranceKilometres else { return nil }
        // The stored time has minute resolution: allow the minute.
        let hours = max(Double(abs(scan.time - lastTime)), 60_000) / 3_600_000
        guard km / hours > impossibleSpeed else { return nil }
        return Finding(
            rule: .duplicate,
            severity: .critical,
            distanceKilometres: km,
            previousRegion: binding.lastRegion,
            previousTime: lastTime,
            detail: "seen \(Int(km)) km away \(Int(hours * 60)) min earlier: faster than \(Int(impossibleSpeed)) km/h"
        )
    }
}

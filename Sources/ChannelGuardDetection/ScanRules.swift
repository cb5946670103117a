import ChannelGuardCodes
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
        /// The party's code when the scan names one that is no distributor.
        public var unknownParty: String?

        public init(
            step: ScanStep,
            region: UInt32,
            time: Int64,
            kind: ScanBatch.KeyKind,
            key: UInt64,
            price: Int64 = -1,
            party: Int64? = nil,
            unknownParty: String? = nil
        ) {
            self.step = step
            self.region = region
            self.time = time
            self.kind = kind
            self.key = key
            self.price = price
            self.party = party
            self.unknownParty = unknownParty
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

        public init(
            rule: AlertRule,
            severity: AlertSeverity,
            distanceKilometres: Double? = nil,
            territory: [UInt32] = [],
            floor: Int64? = nil,
            previousRegion: UInt32? = nil,
            previousTime: Int64? = nil,
            detail: String
        ) {
            self.rule = rule
            self.severity = severity
            self.distanceKilometres = distanceKilometres
            self.territory = territory
            self.floor = floor
            self.previousRegion = previousRegion
            self.previousTime = previousTime
            self.detail = detail
        }
    }

    /// Checks one downstream scan (receive, sell, activate, inspect) against the serial's binding
    /// and scan state as they were just before it. Appends every rule that fired; returns whether
    /// the scan lies inside the owner's territory (for rollups).
    ///
    /// Each rule is judged on what is known, independently of the others: a region missing from
    /// the catalogue is `unknown_region` and the serial is still checked (a never-shipped code is
    /// still `unknown_code`, a second sale still `duplicate`); a sale under the floor is
    /// `price_below_floor` whether or not the code was ever shipped.
    public func check(
        _ scan: Scan,
        binding: SerialBinding?,
        reference: ReferenceData,
        into findings: inout [Finding]
    ) -> Bool {
        // A code of region shape outside the catalogue: where the unit was is not known.
        let region = RegionCode(value: scan.region)
        let known = region != nil && reference.isKnownRegion(scan.region)
        if !known { findings.append(Self.unknownRegion(scan.region)) }
        var inside = false
        if let binding {
            let owner = binding.distributor
            if known, let region {
                inside = reference.isInside(region, distributor: owner, at: scan.time)
                if !inside { findings.append(outside(region, owner: owner, at: scan.time, reference: reference)) }
            }
            if scan.step == .receive {
                if let party = scan.party, party != owner {
                    findings.append(
                        Finding(
                            rule: .notConsignee,
                            severity: .high,
                            detail: "received by distributor \(party); shipped to distributor \(owner)"
                        )
                    )
                } else if let unknown = scan.unknownParty {
                    findings.append(
                        Finding(
                            rule: .notConsignee,
                            severity: .high,
                            detail:
                                "received by party \(unknown), which is no distributor; shipped to distributor \(owner)"
                        )
                    )
                }
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
            } else if known, let region,
                let travel = impossibleTravel(scan, region: region, binding: binding, catalog: reference.catalog)
            {
                findings.append(travel)
            }
        } else {
            findings.append(Finding(rule: .unknownCode, severity: .medium, detail: "no shipment binds this code"))
        }
        if scan.step == .sell, scan.price >= 0, scan.kind == .item, let region,
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

    /// Whether the gateway that sent a scan may send it: a step its kind allows and, for a `ship`,
    /// a unit its owner holds — the unit's distributor is the gateway's owner or downstream of it
    /// (an upstream ships on its dealer's behalf); a unit bound to no one is bound only by the
    /// gateway of a root of the tree (HQ). `nil` when it may; else the `unauthorised_binding`
    /// finding, and the scan is not applied. Frames without a gateway (the line protocol's open
    /// mode, for trials) are not checked.
    public func authorise(
        _ step: ScanStep,
        gateway: ReferenceData.Gateway?,
        holder: Int64?,
        reference: ReferenceData
    ) -> Finding? {
        guard let gateway else { return nil }
        guard gateway.steps.allows(step) else {
            return Finding(
                rule: .unauthorisedBinding,
                severity: .high,
                detail: "gateway \(gateway.id) (\(gateway.kind.rawValue)) may not send \(step.rawValue) scans"
            )
        }
        guard step == .ship else { return nil }
        let owner = gateway.owner
        if let holder {
            guard holder != owner, !reference.isAncestor(owner, of: holder) else { return nil }
            return Finding(
                rule: .unauthorisedBinding,
                severity: .high,
                detail:
                    "gateway \(gateway.id) of distributor \(owner) ships a unit held by distributor \(holder), not its own or downstream"
            )
        }
        guard reference.parents[owner] != nil else { return nil }
        return Finding(
            rule: .unauthorisedBinding,
            severity: .high,
            detail:
                "gateway \(gateway.id) of distributor \(owner) ships a unit bound to no one; only HQ binds new units"
        )
    }

    /// A scan in a region code that is no region of the catalogue (any step: a ship or return in
    /// one is stored and applied, and raises this too).
    public static func unknownRegion(_ region: UInt32) -> Finding {
        Finding(
            rule: .unknownRegion,
            severity: .high,
            detail: "scanned in region \(region), which is not in the region catalogue"
        )
    }

    /// The finding for a known region outside what `owner` holds at `time`: `no_territory` when it
    /// holds nothing then (no grant in force), else `out_of_territory` by reach and distance.
    func outside(_ region: RegionCode, owner: Int64, at time: Int64, reference: ReferenceData) -> Finding {
        let territory = reference.territory(of: owner, at: time)
        guard !territory.regions.isEmpty else {
            return Finding(
                rule: .noTerritory,
                severity: .high,
                detail:
                    "scanned in \(region); distributor \(owner) holds no territory grant in force at the scan's time"
            )
        }
        let verdict = TerritoryVerdict.evaluate(scanRegion: region, territory: territory, catalog: reference.catalog)
        var reach = DiversionReach.otherProvince
        var kilometres: Double?
        if case .outside(let found, let km) = verdict { (reach, kilometres) = (found, km) }
        return Finding(
            rule: .outOfTerritory,
            severity: verdict.severity(criticalKilometres: criticalKilometres) ?? .high,
            distanceKilometres: kilometres,
            territory: territory.regions.map(\.value),
            detail: "scanned in \(region) (\(reach)), outside distributor \(owner)'s territory"
        )
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

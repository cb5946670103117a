import ChannelGuardDetection
import ChannelGuardTerritory
import Testing

@Suite struct TerritoryVerdictTests {
    let catalog = RegionCatalog.bundled
    // A store in Nanshan district, Shenzhen.
    let nanshanStore = Territory([RegionCode("440305")!])

    func verdict(_ scan: String, _ territory: Territory? = nil) -> TerritoryVerdict {
        TerritoryVerdict.evaluate(scanRegion: RegionCode(scan)!, territory: territory ?? nanshanStore, catalog: catalog)
    }

    @Test func insideIsNotAnAlert() {
        #expect(verdict("440305") == .inside)
        #expect(verdict("440305").severity() == nil)
    }

    @Test func severityGrowsWithReach() throws {
        // Futian: another county of Shenzhen.
        guard case .outside(let county, let countyKm) = verdict("440304") else {
            Issue.record("inside?")
            return
        }
        #expect(county == .otherCounty)
        #expect(verdict("440304").severity() == .low)
        // Guangzhou Yuexiu: another city of Guangdong.
        guard case .outside(let city, let cityKm) = verdict("440104") else {
            Issue.record("inside?")
            return
        }
        #expect(city == .otherCity)
        #expect(verdict("440104").severity() == .medium)
        // Changsha: another province, under 1,000 km.
        #expect(verdict("430102").severity() == .high)
        // Beijing Chaoyang: another province, about 1,950 km.
        guard case .outside(let province, let provinceKm) = verdict("110105") else {
            Issue.record("inside?")
            return
        }
        #expect(province == .otherProvince)
        #expect(verdict("110105").severity() == .critical)
        let kms = try [#require(countyKm), #require(cityKm), #require(provinceKm)]
        #expect(kms == kms.sorted())
        #expect(kms[2] > 1_800 && kms[2] < 2_100)
    }

    @Test func nearestGrantDecidesTheReach() {
        // A dealer holding Shenzhen city and Guangxi province; a scan in Dongguan is another city of Guangdong.
        let dealer = Territory([RegionCode("440300")!, RegionCode("450000")!])
        #expect(verdict("441900", dealer) == verdict("441900", dealer))
        guard case .outside(let reach, _) = verdict("441900", dealer) else {
            Issue.record("inside?")
            return
        }
        #expect(reach == .otherCity)
    }

    @Test func emptyTerritoryIsOtherProvince() {
        guard case .outside(let reach, _) = verdict("440305", Territory([])) else {
            Issue.record("inside?")
            return
        }
        #expect(reach == .otherProvince)
    }

    @Test func ruleNamesMatchTheSchema() {
        #expect(
            AlertRule.allCases.map(\.rawValue) == [
                "out_of_territory", "unknown_code", "duplicate", "not_consignee", "price_below_floor",
                "unknown_region", "no_territory", "unauthorised_binding",
            ]
        )
        #expect(AlertSeverity.low < .critical)
    }
}

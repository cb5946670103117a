import ChannelGuardTerritory
import Testing

@Suite struct RegionCodeTests {
    @Test func parsesSixAndTwelveDigitForms() throws {
        let county = try #require(RegionCode("440305"))
        #expect(RegionCode("440305000000") == county)
        #expect(county.level == .county)
        #expect(county.prefix == "440305")
        #expect(county.city == RegionCode("440300"))
        #expect(county.province == RegionCode("440000"))
        #expect(county.parent == RegionCode("440300"))
        #expect(RegionCode("440300")?.level == .city)
        #expect(RegionCode("440000")?.prefix == "44")
        #expect(RegionCode("440000")?.parent == nil)
    }

    @Test(arguments: ["", "44030", "4403051", "001234", "440005", "44030a", "440305000001", "44 305"])
    func rejectsMalformedCodes(text: String) {
        #expect(RegionCode(text) == nil)
    }

    @Test func containmentFollowsTheHierarchy() throws {
        let guangdong = try #require(RegionCode("440000"))
        let shenzhen = try #require(RegionCode("440300"))
        let nanshan = try #require(RegionCode("440305"))
        #expect(guangdong.contains(nanshan) && shenzhen.contains(nanshan) && nanshan.contains(nanshan))
        #expect(!nanshan.contains(shenzhen))
        #expect(!shenzhen.contains(try #require(RegionCode("440103"))))
    }
}

@Suite struct RegionCatalogTests {
    let catalog = RegionCatalog.bundled

    @Test func bundledCatalogHoldsTheRealCodes() {
        #expect(catalog.regions.count == 3_511)
        #expect(catalog.regions(at: .province).count == 34)
        #expect(catalog[RegionCode("110000")!]?.name == "北京市")
        #expect(catalog[RegionCode("440305")!]?.name == "南山区")
    }

    @Test func everyRegionHasItsParentInTheCatalogue() {
        for region in catalog.regions {
            if let parent = region.code.parent {
                #expect(catalog[parent] != nil, "\(region.code) has no parent \(parent)")
            }
        }
    }

    @Test func centroidFallsBackToTheNearestAncestor() throws {
        let placeholder = try #require(catalog.regions.first { $0.centroid == nil })
        #expect(catalog.centroid(of: placeholder.code) != nil)
        #expect(catalog.centroid(of: placeholder.code) == catalog.centroid(of: placeholder.code.parent!))
    }

    @Test func malformedCSVNamesTheLine() {
        #expect(throws: RegionCatalogError.self) {
            try RegionCatalog(
                csv: "adcode,name,longitude,latitude\n110000000000,北京市,116.4,39.9\n11000x000000,bad,1,1\n"
            )
        }
        do {
            _ = try RegionCatalog(csv: "adcode,name,longitude,latitude\n110000000000,北京市,500,39.9\n")
            Issue.record("an out-of-range longitude was accepted")
        } catch {
            #expect(error.line == 2)
        }
    }

    @Test func territoryContainsAndDropsCoveredRegions() throws {
        let territory = Territory([RegionCode("440300")!, RegionCode("440305")!, RegionCode("450000")!])
        #expect(territory.regions == [RegionCode("450000")!, RegionCode("440300")!])
        #expect(territory.contains(RegionCode("440304")!))
        #expect(territory.contains(RegionCode("450102")!))
        #expect(!territory.contains(RegionCode("440103")!))
    }

    @Test func distancesAreGreatCircleKilometres() {
        let beijing = GeoPoint(longitude: 116.407526, latitude: 39.90403)
        let shanghai = GeoPoint(longitude: 121.473701, latitude: 31.230416)
        let km = beijing.distanceKilometres(to: shanghai)
        #expect(km > 1_060 && km < 1_075)  // about 1,067 km
        #expect(beijing.distanceKilometres(to: beijing) == 0)
    }
}

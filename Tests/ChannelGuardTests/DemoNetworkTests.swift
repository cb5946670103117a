import ChannelGuardCodes
import ChannelGuardCommerce
import ChannelGuardStore
import ChannelGuardTerritory
import ChannelGuardTestSupport
import Testing

@Suite struct DemoNetworkPlanTests {
    @Test func theNetworkIsDeterministicAndShapedAsAsked() {
        let network = DemoNetwork.generate()
        #expect(network.distributors == DemoNetwork.generate().distributors)
        #expect(network.distributors(tier: "hq").count == 1)
        #expect(network.distributors(tier: "provincial_agent").count == 31)
        #expect(network.distributors(tier: "city_dealer").count == 300)
        #expect(network.distributors(tier: "store").count == 2_000)
        #expect(network.products.count == 500)
        #expect(Set(network.products.map(\.gtin)).count == 500)
        #expect(network.products.allSatisfy { GS1CheckDigit.isValid($0.gtin.digits) })
        let codes = Set(network.distributors.map(\.code))
        #expect(network.distributors.allSatisfy { $0.parentCode == nil || codes.contains($0.parentCode!) })
        // Each territory lies inside the parent's.
        let byCode = Dictionary(uniqueKeysWithValues: network.distributors.map { ($0.code, $0) })
        for distributor in network.distributors where distributor.tier != "hq" && distributor.tier != "provincial_agent"
        {
            let parent = byCode[distributor.parentCode!]!
            #expect(distributor.territory.allSatisfy { Territory(parent.territory).contains($0) })
        }
    }

    @Test func serialsAreStableAndValid() {
        let serials = DemoSerials(network: .generate())
        #expect(DemoSerials.serial(0) == "K0000000000")
        #expect(DemoSerials.serial(35) == "K000000000Z")
        #expect(serials.owner(12_345) == serials.owner(12_345))
        #expect(
            serials.shipmentCode(99_999) != serials.shipmentCode(100_000)
                || serials.owner(99_999) != serials.owner(100_000)
        )
        #expect(DemoSerials.shipmentCode(wave: 3, owner: "ST-440305") == "DEMO-W0003-ST-440305")
    }
}

@Suite(.database) struct DemoNetworkLoadTests {
    func count(_ connection: LibPQConnection, _ sql: String) throws -> Int {
        Int(try connection.execute(sql)[0][0] ?? "") ?? -1
    }

    @Test func loadMatchesWhatWasAskedAndRepeatsSafely() throws {
        let connection = try TestDatabase.require().connect()
        let loader = DemoNetworkLoader()
        #expect(try !loader.isLoaded(connection))

        let first = try loader.load(connection, serials: 5_000)
        #expect(first.distributorsAdded == 2_332)
        #expect(first.productsAdded == 500)
        #expect(first.serialsAdded == 5_000 && first.serialsTotal == 5_000)
        #expect(try loader.isLoaded(connection))
        #expect(try count(connection, "SELECT count(*) FROM distributors") == 2_332)
        #expect(try count(connection, "SELECT count(*) FROM distributors WHERE tier = 'store'") == 2_000)
        #expect(try count(connection, "SELECT count(*) FROM products") == 500)
        #expect(try count(connection, "SELECT count(*) FROM serial_bindings") == 5_000)
        #expect(try count(connection, "SELECT count(*) FROM price_list_items") == 1_500)
        #expect(try count(connection, "SELECT count(*) FROM minimum_retail_prices") == 500)
        // Everyone below HQ has exactly its one primary grant, at its tier's level.
        #expect(
            try count(
                connection,
                """
                SELECT count(*) FROM distributors d JOIN territory_grants g ON g.distributor_id = d.id
                JOIN regions r ON r.code = g.region_code
                WHERE r.level = distributor_tier_rank(d.tier)
                """
            ) == 2_331
        )
        // Serials are owned by dealers and stores, shipped by their parents.
        #expect(
            try count(
                connection,
                """
                SELECT count(*) FROM serial_owners o JOIN shipments s ON s.id = o.shipment_id
                JOIN distributors d ON d.id = o.distributor_id
                WHERE d.tier IN ('city_dealer', 'store') AND s.from_distributor_id = d.parent_id
                """
            ) == 5_000
        )

        let again = try loader.load(connection, serials: 5_000)
        #expect(again.distributorsAdded == 0 && again.territoryGrantsAdded == 0 && again.productsAdded == 0)
        #expect(again.shipmentsAdded == 0 && again.serialsAdded == 0 && again.serialsTotal == 5_000)
        #expect(try count(connection, "SELECT count(*) FROM distributors") == 2_332)

        let more = try loader.load(connection, serials: 12_000)
        #expect(more.serialsAdded == 7_000 && more.serialsTotal == 12_000)
        #expect(more.distributorsAdded == 0 && more.productsAdded == 0)
        #expect(try count(connection, "SELECT count(*) FROM serial_bindings") == 12_000)
        #expect(try loader.serialCount(connection) == 12_000)

        // Asking for fewer never removes any.
        let fewer = try loader.load(connection, serials: 10)
        #expect(fewer.serialsAdded == 0 && fewer.serialsTotal == 12_000)

        // The same serial has the same product and owner however it was loaded.
        let serials = DemoSerials(network: loader.network)
        let row = try connection.execute(
            "SELECT gtin, d.code FROM serial_owners o JOIN distributors d ON d.id = o.distributor_id WHERE serial = $1",
            [DemoSerials.serial(7_777)]
        )
        #expect(row == [[serials.product(7_777).digits, serials.owner(7_777)]])
    }
}

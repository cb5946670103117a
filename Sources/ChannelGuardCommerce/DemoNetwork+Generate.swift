import ChannelGuardCodes
import ChannelGuardTerritory

extension DemoNetwork {
    /// Provinces outside the demo brand's mainland network (Taiwan, Hong Kong, Macao).
    static let excludedProvinces: Set<UInt32> = [710000, 810000, 820000]

    static let categories: [(name: String, label: String, minYuan: Int, maxYuan: Int)] = [
        ("air_conditioner", "Air conditioner", 2_499, 9_999),
        ("refrigerator", "Refrigerator", 1_999, 12_999),
        ("washing_machine", "Washing machine", 1_299, 6_999),
        ("water_heater", "Water heater", 699, 3_999),
        ("range_hood", "Range hood", 899, 4_999),
        ("e_bike", "Electric bike", 1_999, 5_999),
        ("power_tool", "Power tool", 199, 1_499),
        ("smart_lock", "Smart lock", 699, 2_999),
    ]

    /// Builds the network from the region catalogue.
    ///
    /// - Parameters:
    ///   - cityDealers: how many cities get a dealer (at most the mainland cities in the catalogue).
    ///   - stores: how many counties get a store, in cities that have a dealer.
    ///   - products: how many products (each with a valid GTIN under company prefix 6901234).
    public static func generate(
        catalog: RegionCatalog = .bundled,
        cityDealers: Int = 300,
        stores: Int = 2_000,
        products productCount: Int = 500,
        seed: UInt64 = 2026
    ) -> DemoNetwork {
        var random = SplitMix64(seed: seed)
        let mainland = { (code: RegionCode) in !excludedProvinces.contains(code.province.value) }
        let provinces = catalog.regions(at: .province).filter { mainland($0.code) }
        let cities = catalog.regions(at: .city).filter { mainland($0.code) }
        let chosenCities = Array(cities.shuffled(using: &random).prefix(cityDealers)).sorted { $0.code < $1.code }
        let dealerCities = Set(chosenCities.map(\.code))
        let counties = catalog.regions(at: .county).filter { dealerCities.contains($0.code.city) }
        let chosenCounties = Array(counties.shuffled(using: &random).prefix(stores)).sorted { $0.code < $1.code }

        var distributors: [Distributor] = [
            Distributor(
                code: headquartersCode,
                name: "Huaxia Home Appliances HQ",
                tier: "hq",
                parentCode: nil,
                homeRegion: RegionCode("330100")!,
                territory: [],
                creditLimit: 0,
                priceListCode: nil
            )
        ]
        for province in provinces {
            distributors.append(
                Distributor(
                    code: "PA-\(province.code.prefix)",
                    name: "\(province.name)总代理",
                    tier: "provincial_agent",
                    parentCode: headquartersCode,
                    homeRegion: province.code,
                    territory: [province.code],
                    creditLimit: 5_000_000,
                    priceListCode: "AGENT"
                )
            )
        }
        for city in chosenCities {
            let cityName = city.name == "市辖区" ? (catalog[city.code.province]?.name ?? city.name) : city.name
            distributors.append(
                Distributor(
                    code: "CD-\(city.code.prefix)",
                    name: "\(cityName)经销商",
                    tier: "city_dealer",
                    parentCode: "PA-\(city.code.province.prefix)",
                    homeRegion: city.code,
                    territory: [city.code],
                    creditLimit: 500_000,
                    priceListCode: "DEALER"
                )
            )
        }
        for county in chosenCounties {
            distributors.append(
                Distributor(
                    code: "ST-\(county.code.prefix)",
                    name: "\(county.name)专卖店",
                    tier: "store",
                    parentCode: "CD-\(county.code.city.prefix)",
                    homeRegion: county.code,
                    territory: [county.code],
                    creditLimit: 50_000,
                    priceListCode: "STORE"
                )
            )
        }

        var products: [Product] = []
        for item in 1...productCount {
            let category = categories[(item - 1) % categories.count]
            let reference = String(item)
            let padded = String(repeating: "0", count: 5 - reference.count) + reference
            let yuan = Int.random(in: category.minYuan...category.maxYuan, using: &random) / 10 * 10 + 9
            products.append(
                Product(
                    gtin: GTIN(dataDigits: "06901234" + padded),
                    sku: "HX-\(category.name.uppercased().prefix(3))-\(padded)",
                    name: "\(category.label) HX-\(padded)",
                    category: category.name,
                    retailPriceFen: yuan * 100
                )
            )
        }

        let gateways: [Gateway] =
            [
                Gateway(
                    code: "hq-warehouse-pda",
                    name: "HQ central warehouse PDAs",
                    kind: "warehouse_pda",
                    ownerCode: headquartersCode
                ),
                Gateway(
                    code: "consumer-activation",
                    name: "Consumer warranty activation backend",
                    kind: "consumer_backend",
                    ownerCode: headquartersCode
                ),
                Gateway(
                    code: "field-inspection",
                    name: "Field inspector app",
                    kind: "inspector_app",
                    ownerCode: headquartersCode
                ),
            ]
            + provinces.map {
                Gateway(
                    code: "pos-\($0.code.prefix)",
                    name: "\($0.name) store POS",
                    kind: "store_pos",
                    ownerCode: "PA-\($0.code.prefix)"
                )
            }

        return DemoNetwork(
            distributors: distributors,
            products: products,
            priceLists: [
                PriceList(code: "AGENT", name: "Provincial agent price list", percentOfRetail: 60),
                PriceList(code: "DEALER", name: "City dealer price list", percentOfRetail: 70),
                PriceList(code: "STORE", name: "Store price list", percentOfRetail: 80),
            ],
            gateways: gateways,
            minimumRetailPercent: 90
        )
    }
}

import ChannelGuardCodes
import ChannelGuardTerritory

/// The deterministic demo brand network: an appliance and e-bike brand selling through
/// provincial agents, city dealers and stores on the real GB/T 2260 regions.
///
/// The same seed and catalogue always give the same network, so loading it twice changes nothing.
public struct DemoNetwork: Sendable {
    public struct Distributor: Sendable, Hashable {
        public var code: String
        public var name: String
        public var tier: String
        public var parentCode: String?
        public var homeRegion: RegionCode
        /// The granted regions (empty for HQ, which ships but does not sell).
        public var territory: [RegionCode]
        public var creditLimit: Int
        public var priceListCode: String?
    }

    public struct Product: Sendable, Hashable {
        public var gtin: GTIN
        public var sku: String
        public var name: String
        public var category: String
        /// The recommended retail price in fen (1/100 CNY).
        public var retailPriceFen: Int
    }

    public struct PriceList: Sendable, Hashable {
        public var code: String
        public var name: String
        /// The share of the retail price this tier pays, in percent.
        public var percentOfRetail: Int
    }

    public struct Gateway: Sendable, Hashable {
        public var code: String
        public var name: String
        public var kind: String
        public var ownerCode: String
    }

    public var distributors: [Distributor]
    public var products: [Product]
    public var priceLists: [PriceList]
    public var gateways: [Gateway]
    /// The minimum retail price as a percentage of the recommended retail price.
    public var minimumRetailPercent: Int

    /// The code of the root distributor.
    public static let headquartersCode = "HQ"

    public func distributors(tier: String) -> [Distributor] {
        distributors.filter { $0.tier == tier }
    }

    /// The distributors that receive serials: city dealers and stores.
    public var serialOwners: [Distributor] {
        distributors.filter { $0.tier == "city_dealer" || $0.tier == "store" }
    }
}

import ChannelGuardCodes

/// The deterministic serials of the demo network: serial number `i` always has the same text,
/// product and owner, so loading more serials later extends the same sequence.
public struct DemoSerials: Sendable {
    /// Serials per shipment wave: each owner receives one shipment per wave.
    public static let waveSize = 100_000

    public let products: [GTIN]
    public let owners: [String]

    public init(network: DemoNetwork) {
        products = network.products.map(\.gtin)
        owners = network.serialOwners.map(\.code)
    }

    /// The serial text: `K` and ten base-36 digits (GS1 character set 82, 11 characters).
    public static func serial(_ index: Int) -> String {
        let digits = String(index, radix: 36, uppercase: true)
        return "K" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    public func product(_ index: Int) -> GTIN {
        products[Int(SplitMix64.mix(UInt64(index) &* 2 &+ 1) % UInt64(products.count))]
    }

    public func owner(_ index: Int) -> String {
        owners[Int(SplitMix64.mix(UInt64(index) &* 2) % UInt64(owners.count))]
    }

    public static func wave(_ index: Int) -> Int { index / waveSize }

    /// The shipment that carried serial `index` to its owner.
    public func shipmentCode(_ index: Int) -> String {
        Self.shipmentCode(wave: Self.wave(index), owner: owner(index))
    }

    public static func shipmentCode(wave: Int, owner: String) -> String {
        let number = String(wave)
        return "DEMO-W" + String(repeating: "0", count: max(0, 4 - number.count)) + number + "-" + owner
    }

    /// When a wave shipped: one day apart, from 2026-01-05 00:00 UTC.
    public static func shippedAtUnixSeconds(wave: Int) -> Int64 {
        1_767_571_200 + Int64(wave) * 86_400
    }
}

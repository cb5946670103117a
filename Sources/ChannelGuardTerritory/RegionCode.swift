/// A Chinese administrative division code (GB/T 2260): 2 digits province, 2 city, 2 county.
///
/// Stored as its 6-digit value; the 12-digit statistical form (with 6 trailing zeros) is accepted on
/// input. A province code ends in `0000`, a city (prefecture) code in `00`.
public struct RegionCode: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 6-digit numeric value, e.g. `110105`.
    public let value: UInt32

    /// Parses a 6-digit code, or the 12-digit form whose last six digits are zero.
    ///
    /// Returns `nil` for anything else: wrong length, non-digits, a zero province part, a county
    /// part without a city part.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 6 || (bytes.count == 12 && bytes[6...].allSatisfy({ $0 == UInt8(ascii: "0") }))
        else { return nil }
        var value: UInt32 = 0
        for byte in bytes.prefix(6) {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
        }
        self.init(value: value)
    }

    /// Validates a numeric value as a region code.
    public init?(value: UInt32) {
        guard value >= 100_000, value <= 999_999 else { return nil }
        let city = (value / 100) % 100
        let county = value % 100
        if city == 0 && county != 0 { return nil }
        self.value = value
    }

    /// The administrative level the code names.
    public var level: RegionLevel {
        if value % 10_000 == 0 { return .province }
        if value % 100 == 0 { return .city }
        return .county
    }

    /// The significant digits: 2 for a province, 4 for a city, 6 for a county.
    public var prefix: String {
        String(description.prefix(level.prefixLength))
    }

    /// The enclosing province.
    public var province: RegionCode { RegionCode(unchecked: value - value % 10_000) }

    /// The enclosing city (itself for a city, the province for a province).
    public var city: RegionCode {
        level == .province ? self : RegionCode(unchecked: value - value % 100)
    }

    /// The parent region: county → city → province; `nil` for a province.
    public var parent: RegionCode? {
        switch level {
        case .province: nil
        case .city: province
        case .county: city
        }
    }

    /// Whether `other` lies inside this region (a region contains itself).
    public func contains(_ other: RegionCode) -> Bool {
        let divisor: UInt32 =
            switch level {
            case .province: 10_000
            case .city: 100
            case .county: 1
            }
        return other.value / divisor == value / divisor
    }

    public var description: String {
        let digits = String(value)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }

    public static func < (lhs: RegionCode, rhs: RegionCode) -> Bool { lhs.value < rhs.value }

    private init(unchecked value: UInt32) { self.value = value }
}

/// The level of an administrative division.
public enum RegionLevel: Int, Sendable, Comparable, CaseIterable {
    case province = 1
    case city = 2
    case county = 3

    /// The number of significant digits of a code at this level.
    public var prefixLength: Int { rawValue * 2 }

    public static func < (lhs: RegionLevel, rhs: RegionLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

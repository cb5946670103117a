/// An IPv4 network in CIDR form (`127.0.0.0/8`), for the open mode's allow list.
public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    public let address: UInt32
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = Self.parse(parts[0]) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : 32
        guard let length, (0...32).contains(length) else { return nil }
        self.address = address & Self.mask(length)
        prefixLength = length
    }

    /// Parses dotted-quad IPv4.
    public static func parse(_ text: some StringProtocol) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length) }

    public func contains(_ address: UInt32) -> Bool { address & Self.mask(prefixLength) == self.address }

    public var description: String {
        let octets = (0..<4).map { String((address >> UInt32(24 - 8 * $0)) & 0xFF) }
        return octets.joined(separator: ".") + "/\(prefixLength)"
    }
}

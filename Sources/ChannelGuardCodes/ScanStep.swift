/// The supply-chain step a scan records.
///
/// `ship` scans bind serials to the receiving distributor; the downstream steps are checked against
/// that binding. The raw values are the ones used on the wire and in the database.
public enum ScanStep: String, CaseIterable, Sendable, Codable {
    /// Outbound from HQ or an upstream distributor: binds the serial to the consignee.
    case ship
    /// A receiving scan at a distributor's warehouse or store.
    case receive
    /// A retail sale.
    case sell
    /// A consumer activating the product or its warranty.
    case activate
    /// A field inspector's check.
    case inspect
    /// A unit coming back up the channel.
    case `return`

    /// Whether this step is checked against the serial's binding and territory.
    public var isDownstream: Bool {
        switch self {
        case .receive, .sell, .activate, .inspect: true
        case .ship, .return: false
        }
    }
}

extension ScanStep {
    /// The step named by wire bytes (`sell`), compared without building a string: the name's bytes
    /// read as one little-endian number.
    @inline(__always)
    public init?(bytes: UnsafeBufferPointer<UInt8>) {
        guard (4...8).contains(bytes.count), let packed = WireReader.packedName(bytes) else { return nil }
        switch packed {
        case 0x7069_6873: self = .ship
        case 0x65_7669_6563_6572: self = .receive
        case 0x6C6C_6573: self = .sell
        case 0x6574_6176_6974_6361: self = .activate
        case 0x74_6365_7073_6E69: self = .inspect
        case 0x6E72_7574_6572: self = .return
        default: return nil
        }
    }

}

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

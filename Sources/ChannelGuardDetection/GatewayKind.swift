import ChannelGuardCodes

/// What a gateway is (`gateways.kind`), and so which steps it may send.
///
/// A warehouse PDA ships, receives, counts and takes returns; a store's POS receives, sells, counts
/// and takes returns; a consumer backend activates and checks; an inspector's app checks. A scan of
/// any other step from it is refused as `unauthorised_binding`.
public enum GatewayKind: String, CaseIterable, Sendable {
    case warehousePDA = "warehouse_pda"
    case storePOS = "store_pos"
    case consumerBackend = "consumer_backend"
    case inspectorApp = "inspector_app"

    /// The steps this kind may send.
    public var steps: StepSet {
        switch self {
        case .warehousePDA: [.ship, .receive, .inspect, .return]
        case .storePOS: [.receive, .sell, .inspect, .return]
        case .consumerBackend: [.activate, .inspect]
        case .inspectorApp: [.inspect]
        }
    }
}

/// A set of scan steps, one bit each.
public struct StepSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let ship = StepSet(.ship)
    public static let receive = StepSet(.receive)
    public static let sell = StepSet(.sell)
    public static let activate = StepSet(.activate)
    public static let inspect = StepSet(.inspect)
    public static let `return` = StepSet(.return)
    public static let all = StepSet(rawValue: 0x3F)

    /// The set of one step: its bit is the step's wire code (0 ship … 5 return).
    @inlinable
    public init(_ step: ScanStep) {
        self.init(rawValue: 1 << BinaryFrame.stepCode(step))
    }

    @inlinable
    public func allows(_ step: ScanStep) -> Bool { rawValue & StepSet(step).rawValue != 0 }
}

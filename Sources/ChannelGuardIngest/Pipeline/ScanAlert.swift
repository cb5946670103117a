import ChannelGuardCodes
import ChannelGuardDetection

/// An alert raised by the pipeline, with its evidence; stored in `alerts` with its batch.
public struct ScanAlert: Sendable, Hashable {
    public var rule: AlertRule
    public var severity: AlertSeverity
    public var step: ScanStep
    /// Unix milliseconds of the scan.
    public var scannedAt: Int64
    /// The GTIN (items) or SSCC (logistic units) as a number.
    public var key: UInt64
    public var kind: ScanBatch.KeyKind
    public var serial: String
    /// The distributor the unit is bound to (`nil` for unknown codes).
    public var distributor: Int64?
    /// The scanning party, when it names a known distributor.
    public var scanParty: Int64?
    public var scanRegion: UInt32
    /// The distributor's territory at scan time (region codes), for the evidence.
    public var territory: [UInt32] = []
    public var distanceKilometres: Double?
    /// The reported price in fen, or -1.
    public var price: Int64
    /// The floor in force, in fen (`price_below_floor`).
    public var floor: Int64?
    /// The previous scan's region and time (`duplicate`).
    public var previousRegion: UInt32?
    public var previousTime: Int64?
    public var gateway: UInt32
    public var device: String
    /// Why, in words.
    public var detail: String

    public init(
        rule: AlertRule,
        severity: AlertSeverity,
        step: ScanStep,
        scannedAt: Int64,
        key: UInt64,
        kind: ScanBatch.KeyKind,
        serial: String,
        scanRegion: UInt32,
        price: Int64,
        gateway: UInt32,
        device: String,
        detail: String
    ) {
        self.rule = rule
        self.severity = severity
        self.step = step
        self.scannedAt = scannedAt
        self.key = key
        self.kind = kind
        self.serial = serial
        self.scanRegion = scanRegion
        self.price = price
        self.gateway = gateway
        self.device = device
        self.detail = detail
    }

    /// The evidence as a JSON object (`alerts.evidence`).
    public var evidenceJSON: String {
        var fields: [String] = ["\"detail\":\(JSONText.quote(detail))"]
        if !territory.isEmpty {
            fields.append("\"territory\":[\(territory.map { "\"\($0)\"" }.joined(separator: ","))]")
        }
        if let floor { fields.append("\"floor_fen\":\(floor)") }
        if let previousRegion { fields.append("\"previous_region\":\"\(previousRegion)\"") }
        if let previousTime { fields.append("\"previous_time_ms\":\(previousTime)") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

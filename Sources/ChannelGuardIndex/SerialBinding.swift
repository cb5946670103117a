import ChannelGuardCodes

/// What the index knows about one serial, packed into 16 bytes: who it is bound to, and the state
/// detection needs from its last downstream scan.
///
/// | field | bits | range |
/// |---|---|---|
/// | distributor id | 20 | 1–1,048,575 |
/// | shipment id | 28 | 1–268,435,455 |
/// | bound at | 26 | minutes since 2020-01-01T00:00Z (to year 2147) |
/// | last scan time | 26 | minutes since 2020-01-01T00:00Z |
/// | last scan region | 20 | GB/T 2260 six-digit code |
/// | last step | 3 | none or a ``ScanStep`` |
/// | flags | 5 | ``Flags`` |
///
/// Times before 2020 are stored as 2020-01-01; ids beyond their width are refused when binding
/// (``IndexError/Code/valueOutOfRange``).
public struct SerialBinding: Hashable, Sendable {
    public var bits: UInt128

    /// 2020-01-01T00:00:00Z in milliseconds since 1970.
    public static let epochMilliseconds: Int64 = 1_577_836_800_000

    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }
        /// The serial has been sold.
        public static let sold = Flags(rawValue: 1)
        /// The serial has been activated.
        public static let activated = Flags(rawValue: 2)
        /// The binding came from a serial-prefix range (state recorded for one serial of the run).
        public static let fromRange = Flags(rawValue: 4)
        /// The binding came from a carton (SSCC) the serial was packed in.
        public static let fromCarton = Flags(rawValue: 8)
    }

    public init(bits: UInt128) { self.bits = bits }

    /// The shipment number of a unit bound by a ship scan on the ingest path (no `shipments` row).
    public static let scanShipment: Int64 = 0xFFF_FFFF

    /// A binding to `distributor` through `shipment` at `boundAt` (milliseconds since 1970), with no
    /// scan recorded yet.
    public init(distributor: Int64, shipment: Int64, boundAt: Int64, flags: Flags = []) throws(IndexError) {
        guard (1...0xF_FFFF).contains(distributor) else {
            throw IndexError(.valueOutOfRange, "distributor id \(distributor) (1–1048575)")
        }
        guard (1...0xFFF_FFFF).contains(shipment) else {
            throw IndexError(.valueOutOfRange, "shipment id \(shipment) (1–268435455)")
        }
        bits =
            UInt128(distributor) | UInt128(shipment) << 20 | UInt128(Self.minutes(boundAt)) << 48
            | UInt128(flags.rawValue) << 123
    }

    @inline(__always)
    private func field(_ offset: Int, _ width: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: bits >> UInt128(offset)) & (UInt64(1) << UInt64(width) - 1)
    }

    @inline(__always)
    private mutating func setField(_ offset: Int, _ width: Int, _ value: UInt64) {
        let mask = (UInt128(1) << UInt128(width) - 1) << UInt128(offset)
        bits = bits & ~mask | (UInt128(value) << UInt128(offset)) & mask
    }

    static func minutes(_ milliseconds: Int64) -> UInt64 {
        let minutes = (milliseconds - epochMilliseconds) / 60_000
        return UInt64(min(max(minutes, 0), (1 << 26) - 1))
    }

    public var distributor: Int64 { Int64(field(0, 20)) }
    public var shipment: Int64 { Int64(field(20, 28)) }
    /// When the serial was bound, in milliseconds since 1970 (minute resolution).
    public var boundAt: Int64 { Int64(field(48, 26)) * 60_000 + Self.epochMilliseconds }
    /// When the last downstream scan happened, in milliseconds since 1970 (minute resolution), or
    /// `nil` before the first.
    public var lastTime: Int64? { lastStep == nil ? nil : Int64(field(74, 26)) * 60_000 + Self.epochMilliseconds }
    /// The region of the last downstream scan, or 0.
    public var lastRegion: UInt32 { UInt32(field(100, 20)) }
    /// The step of the last downstream scan.
    public var lastStep: ScanStep? {
        let raw = Int(field(120, 3))
        return raw == 0 ? nil : ScanStep.allCases[raw - 1]
    }
    public var flags: Flags {
        get { Flags(rawValue: UInt8(field(123, 5))) }
        set { setField(123, 5, UInt64(newValue.rawValue)) }
    }

    /// The same serial bound elsewhere: the binding fields change, the scan state stays.
    public func rebound(to other: SerialBinding) -> SerialBinding {
        let bindingMask = (UInt128(1) << 74) - 1
        var result = SerialBinding(bits: bits & ~bindingMask | other.bits & bindingMask)
        let keep = flags.intersection([.sold, .activated])
        result.flags = keep.union(other.flags.subtracting([.sold, .activated]))
        return result
    }

    /// Records a downstream scan: its step, region and time; sales and activations set their flag.
    public mutating func record(step: ScanStep, region: UInt32, time: Int64) {
        setField(74, 26, Self.minutes(time))
        setField(100, 20, UInt64(min(region, 0xF_FFFF)))
        setField(120, 3, UInt64(ScanStep.allCases.firstIndex(of: step)! + 1))
        switch step {
        case .sell: flags.insert(.sold)
        case .activate: flags.insert(.activated)
        default: break
        }
    }
}

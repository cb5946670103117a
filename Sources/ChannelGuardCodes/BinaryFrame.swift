/// The ChannelGuard binary frame protocol, version 1 (specified byte by byte in docs/protocol.md).
///
///     offset  size  field
///     0       4     length: bytes after this field (big-endian, like every integer here)
///     4       1     version = 1
///     5       1     flags: bit 0 = payload is zstd-compressed; other bits 0
///     6       2     record count
///     8       4     gateway id
///     12      8     frame sequence (per gateway, increasing)
///     20      4     payload length P (as sent)
///     24      P     payload: the records, possibly zstd-compressed
///     24+P    32    HMAC-SHA256 over bytes 4 ..< 24+P, keyed with the gateway's secret
public enum BinaryFrame {
    public static let version: UInt8 = 1
    public static let headerBytes = 24
    public static let tagBytes = 32
    /// The largest frame accepted (length field included).
    public static let maximumFrameBytes = 1 << 20
    /// The largest decompressed payload accepted.
    public static let maximumPayloadBytes = 4 << 20
    public static let maximumRecords = 16_384

    /// Frame flags.
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let zstd = Flags(rawValue: 1)
    }

    /// What a frame's header says.
    public struct Header: Hashable, Sendable {
        public var flags: Flags.RawValue
        public var recordCount: Int
        public var gatewayID: UInt32
        public var sequence: UInt64
    }

    /// Step numbers on the wire.

    /// The wire code of a step (0 ship … 5 return).
    @inline(__always)
    public static func stepCode(_ step: ScanStep) -> UInt8 {
        switch step {
        case .ship: 0
        case .receive: 1
        case .sell: 2
        case .activate: 3
        case .inspect: 4
        case .return: 5
        }
    }

    /// The step of a wire code; ``stepCode(_:)`` is its inverse (a test holds them together).
    @inline(__always)
    public static func step(code: UInt8) -> ScanStep? {
        switch code {
        case 0: .ship
        case 1: .receive
        case 2: .sell
        case 3: .activate
        case 4: .inspect
        case 5: .return
        default: nil
        }
    }

    /// Record field presence bits.
    enum Field {
        static let price: UInt8 = 1
        static let party: UInt8 = 2
        static let device: UInt8 = 4
        static let sequence: UInt8 = 8
        static let position: UInt8 = 16
        static let all: UInt8 = 31
    }

    /// The total length of the frame at the start of `bytes` (length field included), once its
    /// four-byte length prefix has arrived; for splitting a TCP stream into frames.
    public static func frameLength(prefix bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count >= 4 else { return nil }
        return Int(WireReader.uint32(bytes, 0)) + 4
    }
}

/// Big-endian reads from a buffer whose bounds the caller has checked.
enum WireReader {
    /// Up to eight bytes of a name as one little-endian number, for matching names without
    /// building strings; `nil` for a NUL byte, which would compare like the zero padding.
    @inline(__always)
    static func packedName(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard bytes.count <= 8 else { return nil }
        var packed: UInt64 = 0
        for byte in bytes.reversed() {
            guard byte != 0 else { return nil }
            packed = packed << 8 | UInt64(byte)
        }
        return packed
    }

    @inline(__always)
    static func uint16(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt16 {
        UInt16(b[at]) << 8 | UInt16(b[at + 1])
    }

    @inline(__always)
    static func uint32(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        precondition(at >= 0 && at + 4 <= b.count)
        return UInt32(bigEndian: UnsafeRawPointer(b.baseAddress! + at).loadUnaligned(as: UInt32.self))
    }

    @inline(__always)
    static func uint64(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt64 {
        precondition(at >= 0 && at + 8 <= b.count)
        return UInt64(bigEndian: UnsafeRawPointer(b.baseAddress! + at).loadUnaligned(as: UInt64.self))
    }
}

/// Big-endian appends.
extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

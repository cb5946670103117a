/// What a TCP server sends back for binary frames (version 1, big-endian):
///
///     offset  size  field
///     0       4     length = 16
///     4       1     version = 1
///     5       1     kind: 1 = durable (every frame up to `sequence` is stored), 2 = rejected (this frame)
///     6       2     reason: 0 when durable; for a rejected frame, a code from ``FrameAcknowledgement/reasonCodes``
///     8       8     sequence
///     16      4     records of the frame rejected one by one (durable only), else 0
public struct FrameAcknowledgement: Hashable, Sendable {
    public enum Kind: UInt8, Sendable {
        case durable = 1
        case rejected = 2
    }

    public var kind: Kind
    public var reason: UInt16
    public var sequence: UInt64
    public var rejectedRecords: UInt32

    public static let encodedBytes = 20

    /// The wire numbers of whole-frame rejections.
    public static let reasonCodes: [CodeRejection.Reason: UInt16] = [
        .badFrame: 1, .unsupportedVersion: 2, .unknownGateway: 3, .badSignature: 4,
    ]

    public static func durable(through sequence: UInt64, rejectedRecords: UInt32 = 0) -> FrameAcknowledgement {
        FrameAcknowledgement(kind: .durable, reason: 0, sequence: sequence, rejectedRecords: rejectedRecords)
    }

    public static func rejected(_ sequence: UInt64, because reason: CodeRejection.Reason) -> FrameAcknowledgement {
        FrameAcknowledgement(kind: .rejected, reason: reasonCodes[reason] ?? 1, sequence: sequence, rejectedRecords: 0)
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.encodedBytes)
        out.appendBigEndian(UInt32(Self.encodedBytes - 4))
        out.append(BinaryFrame.version)
        out.append(kind.rawValue)
        out.appendBigEndian(reason)
        out.appendBigEndian(sequence)
        out.appendBigEndian(rejectedRecords)
        return out
    }

    /// Parses one acknowledgement; `nil` when the bytes are not one.
    public init?(decoding bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == Self.encodedBytes, WireReader.uint32(bytes, 0) == UInt32(Self.encodedBytes - 4),
            bytes[4] == BinaryFrame.version, let kind = Kind(rawValue: bytes[5])
        else { return nil }
        self.init(
            kind: kind,
            reason: WireReader.uint16(bytes, 6),
            sequence: WireReader.uint64(bytes, 8),
            rejectedRecords: WireReader.uint32(bytes, 16)
        )
    }

    public init(kind: Kind, reason: UInt16, sequence: UInt64, rejectedRecords: UInt32) {
        self.kind = kind
        self.reason = reason
        self.sequence = sequence
        self.rejectedRecords = rejectedRecords
    }
}

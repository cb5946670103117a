/// The character sets of GS1 AI values (GS1 General Specifications, figure 7.11-1 and 7.11-2).
public enum GS1CharacterSet: String, Sendable, CaseIterable {
    /// Digits `0`–`9` ("N" in the Syntax Dictionary).
    case numeric = "N"
    /// CSET 82 ("X"): `!"%&'()*+,-./0-9:;<=>?A-Z_a-z`.
    case cset82 = "X"
    /// CSET 39 ("Y"): `#-/0-9A-Z`.
    case cset39 = "Y"
    /// CSET 64 ("Z"): the base64url alphabet `-0-9A-Z_a-z` and `=` for padding.
    case cset64 = "Z"

    /// Whether `byte` belongs to the set.
    @inline(__always)
    public func contains(_ byte: UInt8) -> Bool {
        ByteClass.contains(byte, member)
    }

    /// The first index in `range` whose byte is not in the set, or `nil`.
    @inline(__always)
    public func firstNonMember(_ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        ByteClass.firstNonMember(input, range, member)
    }

    /// Whether every byte of `input[range]` is in the set.
    @inline(__always)
    func containsAll(_ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        ByteClass.all(input, range, member)
    }

    private var member: UInt8 {
        switch self {
        case .numeric: ByteClass.numeric
        case .cset82: ByteClass.cset82
        case .cset39: ByteClass.cset39
        case .cset64: ByteClass.cset64
        }
    }
}

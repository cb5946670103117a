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
        Self.membership[Int(byte)] & mask != 0
    }

    /// The first index in `range` whose byte is not in the set, or `nil`.
    @inline(__always)
    public func firstNonMember(_ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        let mask = mask
        return Self.membership.withUnsafeBufferPointer { table in
            range.first { table[Int(input[$0])] & mask == 0 }
        }
    }

    private var mask: UInt8 {
        switch self {
        case .numeric: 1
        case .cset82: 2
        case .cset39: 4
        case .cset64: 8
        }
    }

    /// One byte per character: bit 0 numeric, 1 CSET 82, 2 CSET 39, 3 CSET 64.
    private static let membership: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        func mark(_ characters: String, _ bit: UInt8) {
            for byte in characters.utf8 { table[Int(byte)] |= bit }
        }
        let digits = "0123456789"
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let lower = "abcdefghijklmnopqrstuvwxyz"
        mark(digits, 1)
        mark("!\"%&'()*+,-./" + digits + ":;<=>?" + upper + "_" + lower, 2)
        mark("#-/" + digits + upper, 4)
        mark("-" + digits + upper + "_" + lower + "=", 8)
        return table
    }()
}

/// The classes of a byte that the decoders check, as one table with a bit per class, so that a run
/// of bytes is checked with one load per byte and no branch per byte.
///
/// The GS1 character sets (General Specifications, figures 7.11-1 and 7.11-2), the party-code
/// alphabet of the protocols and printable ASCII for device names.
enum ByteClass {
    /// Digits `0`–`9`.
    static let numeric: UInt8 = 1 << 0
    /// CSET 82: `!"%&'()*+,-./0-9:;<=>?A-Z_a-z`.
    static let cset82: UInt8 = 1 << 1
    /// CSET 39: `#-/0-9A-Z`.
    static let cset39: UInt8 = 1 << 2
    /// CSET 64: the base64url alphabet `-0-9A-Z_a-z` and `=` for padding.
    static let cset64: UInt8 = 1 << 3
    /// Party codes: `A-Z0-9-_`.
    static let party: UInt8 = 1 << 4
    /// Printable ASCII without space, `!`–`~`.
    static let printable: UInt8 = 1 << 5

    /// Whether every byte of `bytes[range]` is in `member` (one bit).
    ///
    /// The loop ANDs the classes together instead of stopping at the first miss: serials and codes
    /// are short and nearly always valid, and the branch-free loop measured faster on them.
    @inline(__always)
    static func all(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ member: UInt8) -> Bool {
        guard let base = bytes.baseAddress else { return range.isEmpty }
        if range.count <= 16, let verdict = allInOneVector(bytes, base, range, member) { return verdict }
        let table = Self.table
        var found = member
        var index = range.lowerBound
        while index < range.upperBound {
            found &= table[Int(base[index])]
            index &+= 1
        }
        return found != 0
    }

    /// Checks up to 16 bytes with one vector load when the buffer around them has 16 bytes to
    /// read (the lanes outside `range` are ignored); `nil` when it has not, or for a class without
    /// a vector form.
    @inline(__always)
    static func allInOneVector(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ base: UnsafePointer<UInt8>,
        _ range: Range<Int>,
        _ member: UInt8
    ) -> Bool? {
        typealias Vector = SIMD16<UInt8>
        let lanes = Vector(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let head = range.lowerBound + 16 <= bytes.count
        guard head || range.upperBound >= 16 else { return nil }
        let start = head ? range.lowerBound : range.upperBound - 16
        let wanted =
            head
            ? lanes .< Vector(repeating: UInt8(range.count)) : lanes .>= Vector(repeating: UInt8(16 - range.count))
        let v = UnsafeRawPointer(base + start).loadUnaligned(as: Vector.self)
        func within(_ low: UInt8, _ high: UInt8) -> SIMDMask<SIMD16<Int8>> {
            (v .>= Vector(repeating: low)) .& (v .<= Vector(repeating: high))
        }
        func equal(_ byte: UInt8) -> SIMDMask<SIMD16<Int8>> { v .== Vector(repeating: byte) }
        let inside: SIMDMask<SIMD16<Int8>>? =
            switch member {
            case party: within(0x30, 0x39) .| within(0x41, 0x5A) .| equal(0x2D) .| equal(0x5F)
            // `!`–`z` without `#`, `$`, `@`, `[`–`^` and `` ` ``.
            case cset82:
                within(0x21, 0x7A) .& .!(within(0x23, 0x24) .| equal(0x40) .| within(0x5B, 0x5E) .| equal(0x60))
            case numeric: within(0x30, 0x39)
            case printable: within(0x21, 0x7E)
            default: nil
            }
        guard let inside else { return nil }
        return !any(wanted .& .!inside)
    }

    /// The first index in `bytes[range]` whose byte is not in `member`, or `nil`.
    @inline(__always)
    static func firstNonMember(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ member: UInt8) -> Int? {
        if all(bytes, range, member) { return nil }
        let table = Self.table
        return range.first { table[Int(bytes[$0])] & member == 0 }
    }

    /// Whether `byte` is in `member`.
    @inline(__always)
    static func contains(_ byte: UInt8, _ member: UInt8) -> Bool {
        table[Int(byte)] & member != 0
    }

    /// 256 bytes, allocated once and never freed; a pointer rather than an array so that reading it
    /// needs neither a bounds check nor a retain.
    nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(repeating: 0, count: 256)
        func mark(_ characters: String, _ bit: UInt8) {
            for byte in characters.utf8 { table[Int(byte)] |= bit }
        }
        let digits = "0123456789"
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let lower = "abcdefghijklmnopqrstuvwxyz"
        mark(digits, numeric)
        mark("!\"%&'()*+,-./" + digits + ":;<=>?" + upper + "_" + lower, cset82)
        mark("#-/" + digits + upper, cset39)
        mark("-" + digits + upper + "_" + lower + "=", cset64)
        mark(digits + upper + "-_", party)
        for byte in 0x21...0x7E { table[byte] |= printable }
        return UnsafePointer(table)
    }()
}

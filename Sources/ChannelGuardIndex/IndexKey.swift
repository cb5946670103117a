import ChannelGuardCodes

/// The canonical key of one unit, packed into 32 bytes: the bytes the radix tree indexes, and the
/// key of the `Dictionary` baseline in benchmarks.
///
/// Layout (big-endian numbers, so byte order is numeric order):
/// - item: `0x01`, GTIN-14 in 6 bytes, the serial (1–20 characters of CSET 82), `0x00`;
/// - serial-prefix range: `0x01`, GTIN-14 in 6 bytes, the prefix, `0x01`;
/// - logistic unit: `0x02`, SSCC-18 in 8 bytes.
///
/// No serial character is below `!` (0x21), so the closing byte makes the keys prefix-free, and a
/// range key sits beside the serials it covers in key order.
public struct IndexKey: Hashable, Sendable, CustomStringConvertible {
    var storage: (UInt64, UInt64, UInt64, UInt32) = (0, 0, 0, 0)
    /// Number of key bytes in `storage`.
    public private(set) var count: UInt8 = 0

    public static let itemTag: UInt8 = 0x01
    public static let logisticUnitTag: UInt8 = 0x02
    /// Tag of carton contents entries (``SerialIndex`` internal keys).
    static let contentsTag: UInt8 = 0x03
    static let serialEnd: UInt8 = 0x00
    static let rangeEnd: UInt8 = 0x01
    /// Bytes before an item's serial: the tag and the GTIN.
    public static let serialOffset = 7
    public static let maxBytes = 28

    init() {}

    /// The key of a serialised item. Throws for a GTIN without a valid check digit or a serial that
    /// is not 1–20 characters of CSET 82.
    public init(gtin: UInt64, serial: some Collection<UInt8>) throws(IndexError) {
        try self.init(gtin: gtin, serial: serial, end: Self.serialEnd)
    }

    /// The key of a serial-prefix range: every serial of `gtin` starting with `prefix`.
    public static func range(gtin: UInt64, prefix: some Collection<UInt8>) throws(IndexError) -> IndexKey {
        try IndexKey(gtin: gtin, serial: prefix, end: rangeEnd)
    }

    private init(gtin: UInt64, serial: some Collection<UInt8>, end: UInt8) throws(IndexError) {
        guard Self.hasValidCheckDigit(gtin, digits: 14) else {
            throw IndexError(.invalidKey, "GTIN \(gtin) has no valid check digit")
        }
        guard (1...20).contains(serial.count) else {
            throw IndexError(.invalidKey, "serial of \(serial.count) characters (1–20)")
        }
        if let bad = serial.firstIndex(where: { !GS1CharacterSet.cset82.contains($0) }) {
            let position = serial.distance(from: serial.startIndex, to: bad)
            throw IndexError(.invalidKey, "serial character \(serial[bad]) at \(position) is not in CSET 82")
        }
        append(Self.itemTag)
        appendNumber(gtin, bytes: 6)
        for byte in serial { append(byte) }
        append(end)
    }

    /// The key of a logistic unit (carton, pallet). Throws for an SSCC without a valid check digit.
    public init(sscc: UInt64) throws(IndexError) {
        guard sscc < 1_000_000_000_000_000_000, Self.hasValidCheckDigit(sscc, digits: 18) else {
            throw IndexError(.invalidKey, "SSCC \(sscc) has no valid check digit")
        }
        append(Self.logisticUnitTag)
        appendNumber(sscc, bytes: 8)
    }

    /// The key of an event of a decoded ``ScanBatch``, whose codes were validated when decoded: no
    /// second check. A serial the decoder could not have produced (empty, over 20 bytes) gives the
    /// empty key, which no lookup finds.
    public init(decoded kind: ScanBatch.KeyKind, number: UInt64, serial: UnsafeBufferPointer<UInt8>) {
        switch kind {
        case .item:
            guard (1...20).contains(serial.count) else { return }
            append(Self.itemTag)
            appendNumber(number, bytes: 6)
            for byte in serial { append(byte) }
            append(Self.serialEnd)
        case .logisticUnit:
            append(Self.logisticUnitTag)
            appendNumber(number, bytes: 8)
        }
    }

    /// A key from its bytes, as read back from the tree (no validation).
    init(bytes: UnsafeRawBufferPointer) {
        for byte in bytes.prefix(Self.maxBytes) { append(byte) }
    }

    private mutating func append(_ byte: UInt8) {
        let index = Int(count)
        withUnsafeMutableBytes(of: &storage) { $0[index] = byte }
        count += 1
    }

    private mutating func appendNumber(_ number: UInt64, bytes: Int) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: number >> UInt64(shift)))
        }
    }

    /// Whether the last of `digits` decimal digits of `number` is its GS1 check digit.
    static func hasValidCheckDigit(_ number: UInt64, digits: Int) -> Bool {
        let data = number / 10
        return data < power(10, digits - 1) && checkDigit(data, dataDigits: digits - 1) == number % 10
    }

    /// The GS1 check digit of `dataDigits` decimal data digits (weights 3, 1, 3, … from the right),
    /// computed on the number itself: keys arrive as numbers, not text.
    static func checkDigit(_ data: UInt64, dataDigits: Int) -> UInt64 {
        var rest = data
        var sum: UInt64 = 0
        var weight: UInt64 = 3
        for _ in 0..<dataDigits {
            sum += (rest % 10) * weight
            rest /= 10
            weight = 4 - weight
        }
        return (10 - sum % 10) % 10
    }

    private static func power(_ base: UInt64, _ exponent: Int) -> UInt64 {
        (0..<exponent).reduce(1) { value, _ in value * base }
    }

    /// Calls `body` with the key's bytes.
    @inline(__always)
    public func withBytes<R, E: Error>(_ body: (UnsafePointer<UInt8>, Int) throws(E) -> R) throws(E) -> R {
        let count = Int(self.count)
        return try withUnsafeBytes(of: storage) { raw throws(E) in
            try body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count)
        }
    }

    /// The key's bytes.
    public var bytes: [UInt8] { withBytes { Array(UnsafeBufferPointer(start: $0, count: $1)) } }

    /// The first byte: ``itemTag`` or ``logisticUnitTag`` (0 for an empty key).
    @inline(__always)
    public var tag: UInt8 { UInt8(truncatingIfNeeded: storage.0.littleEndian) }
    public var isItem: Bool { tag == Self.itemTag }
    public var isRange: Bool { isItem && withBytes { $0[$1 - 1] } == Self.rangeEnd }
    public var isLogisticUnit: Bool { tag == Self.logisticUnitTag }

    /// The GTIN of an item or range key; the SSCC of a logistic unit.
    public var number: UInt64 {
        withBytes { bytes, count in
            let width = bytes[0] == Self.logisticUnitTag ? 8 : 6
            var value: UInt64 = 0
            for index in 1...width where index < count { value = value << 8 | UInt64(bytes[index]) }
            return value
        }
    }

    /// The serial (or range prefix) of an item key.
    public var serial: [UInt8] {
        withBytes { bytes, count in
            isItem
                ? Array(UnsafeBufferPointer(start: bytes + Self.serialOffset, count: count - Self.serialOffset - 1))
                : []
        }
    }

    /// A hash for choosing a shard, stable across processes (snapshots depend on it).
    @inline(__always)
    public var shardHash: UInt64 {
        var hash = (storage.0 ^ 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ storage.1 ^ hash >> 29) &* 0x94D0_49BB_1331_11EB
        hash = (hash ^ storage.2 ^ hash >> 32) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ UInt64(storage.3) ^ UInt64(count) << 32 ^ hash >> 29) &* 0x94D0_49BB_1331_11EB
        return hash ^ hash >> 31
    }

    public static func == (lhs: IndexKey, rhs: IndexKey) -> Bool {
        lhs.count == rhs.count && lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1
            && lhs.storage.2 == rhs.storage.2 && lhs.storage.3 == rhs.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
        hasher.combine(count)
    }

    public var description: String {
        if isLogisticUnit { return "(00)" + String.leftPadded(number, width: 18) }
        let text = String(decoding: serial, as: UTF8.self)
        return "(01)" + String.leftPadded(number, width: 14) + (isRange ? "(21)\(text)*" : "(21)\(text)")
    }
}

extension String {
    static func leftPadded(_ number: UInt64, width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
    }
}

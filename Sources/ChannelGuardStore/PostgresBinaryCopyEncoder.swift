/// Encodes rows in PostgreSQL's binary COPY format (`PGCOPY\n\377\r\n\0`, big-endian fields).
///
/// Each row is ``beginRow(fieldCount:)`` followed by exactly that many `append…` calls, in the
/// column order of the `COPY` statement. Values must be of the column's type: `text`/`char`/`varchar`
/// take ``appendText(_:)``, `int8` ``appendInt64(_:)``, `timestamptz` ``appendTimestamp(microsecondsSince2000:)``.
public struct PostgresBinaryCopyEncoder: Sendable {
    /// The encoded bytes not yet sent.
    public var bytes: [UInt8]

    /// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 UTC.
    public static let postgresEpochOffsetSeconds: Int64 = 946_684_800

    public init() {
        bytes = []
        bytes.reserveCapacity(1 << 20)
        bytes.append(contentsOf: [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
        appendBigEndian(UInt32(0))  // flags
        appendBigEndian(UInt32(0))  // header extension length
    }

    public mutating func beginRow(fieldCount: Int16) {
        appendBigEndian(UInt16(bitPattern: fieldCount))
    }

    public mutating func appendNull() {
        appendBigEndian(UInt32(bitPattern: -1))
    }

    public mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            appendBigEndian(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func appendBytes(_ value: some Collection<UInt8>) {
        appendBigEndian(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// A text value of `value` in decimal, zero-padded to `width` digits (at most 20): a GTIN or a
    /// region code without building a `String`.
    public mutating func appendDecimalText(_ value: UInt64, width: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes on the stack
        let count = max(1, min(20, max(width, Self.decimalDigits(value))))
        withUnsafeMutableBytes(of: &digits) { buffer in
            var rest = value
            for index in stride(from: count - 1, through: 0, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            appendBytes(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    public mutating func appendInt64(_ value: Int64) {
        appendBigEndian(UInt32(8))
        appendBigEndian(UInt64(bitPattern: value))
    }

    public mutating func appendInt32(_ value: Int32) {
        appendBigEndian(UInt32(4))
        appendBigEndian(UInt32(bitPattern: value))
    }

    public mutating func appendInt16(_ value: Int16) {
        appendBigEndian(UInt32(2))
        appendBigEndian(UInt16(bitPattern: value))
    }

    public mutating func appendBool(_ value: Bool) {
        appendBigEndian(UInt32(1))
        bytes.append(value ? 1 : 0)
    }

    public mutating func appendDouble(_ value: Double) {
        appendBigEndian(UInt32(8))
        appendBigEndian(value.bitPattern)
    }

    /// A `timestamptz` (or `timestamp`) value: microseconds since 2000-01-01 00:00 UTC.
    public mutating func appendTimestamp(microsecondsSince2000 value: Int64) {
        appendInt64(value)
    }

    /// A `timestamptz` from Unix seconds.
    public mutating func appendTimestamp(unixSeconds: Int64) {
        appendInt64((unixSeconds - Self.postgresEpochOffsetSeconds) * 1_000_000)
    }

    /// The end-of-data marker; the encoder adds it when the COPY finishes.
    mutating func appendTrailer() {
        appendBigEndian(UInt16(0xFFFF))
    }

    /// How many decimal digits `value` has (1 for 0).
    static func decimalDigits(_ value: UInt64) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return count
    }

    @inline(__always)
    private mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

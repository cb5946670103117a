import ChannelGuardStore
import Testing

/// Text fields written as zero-padded decimals, without a `String` (rollup cells' cities and GTINs).
@Suite struct PostgresBinaryCopyEncoderTests {
    /// The bytes the encoder appended after its 19-byte header.
    static func field(_ body: (inout PostgresBinaryCopyEncoder) -> Void) -> [UInt8] {
        var encoder = PostgresBinaryCopyEncoder()
        let header = encoder.bytes.count
        body(&encoder)
        return Array(encoder.bytes[header...])
    }

    static func text(_ string: String) -> [UInt8] {
        let utf8 = Array(string.utf8)
        return [0, 0, 0, UInt8(utf8.count)] + utf8
    }

    @Test(arguments: [
        (UInt64(440300), 6, "440300"), (42, 6, "000042"), (0, 1, "0"), (0, 3, "000"),
        (6_901_234_567_892, 14, "06901234567892"), (1_234_567, 6, "1234567"),
        (UInt64.max, 14, "18446744073709551615"),
    ])
    func decimalTextIsZeroPadded(value: UInt64, width: Int, expected: String) {
        #expect(Self.field { $0.appendDecimalText(value, width: width) } == Self.text(expected))
        #expect(Self.field { $0.appendDecimalText(value, width: width) } == Self.field { $0.appendText(expected) })
    }
}

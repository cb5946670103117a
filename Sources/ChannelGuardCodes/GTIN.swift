/// A Global Trade Item Number in its canonical 14-digit form.
///
/// GTIN-8, GTIN-12 (UPC-A) and GTIN-13 (EAN-13) are normalised to 14 digits by left-padding with
/// zeros, as the GS1 General Specifications do for AI (01). The check digit is always validated.
public struct GTIN: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 14 ASCII digits.
    public let digits: String

    /// Parses a GTIN-8, -12, -13 or -14 and normalises it to 14 digits.
    ///
    /// - Throws: ``GTIN/ParseError`` naming why the text is not a GTIN.
    public init(parsing text: String) throws(ParseError) {
        let bytes = Array(text.utf8)
        guard [8, 12, 13, 14].contains(bytes.count) else { throw .badLength(bytes.count) }
        if let offset = bytes.firstIndex(where: { $0 < UInt8(ascii: "0") || $0 > UInt8(ascii: "9") }) {
            throw .notNumeric(offset: offset)
        }
        guard GS1CheckDigit.isValid(text) else { throw .badCheckDigit }
        self.digits = String(repeating: "0", count: 14 - bytes.count) + text
    }

    /// Builds a GTIN-14 from its 13 data digits by appending the check digit.
    ///
    /// - Precondition: `dataDigits` is 13 ASCII digits.
    public init(dataDigits: String) {
        precondition(dataDigits.utf8.count == 13, "a GTIN-14 has 13 data digits")
        let check = GS1CheckDigit.compute(forDataDigits: dataDigits)!
        self.digits = dataDigits + String(check)
    }

    public var description: String { digits }

    public static func < (lhs: GTIN, rhs: GTIN) -> Bool { lhs.digits < rhs.digits }

    /// Why a text is not a GTIN.
    public enum ParseError: Error, Equatable, Sendable {
        /// Not 8, 12, 13 or 14 characters long.
        case badLength(Int)
        /// A character that is not a digit, at this offset.
        case notNumeric(offset: Int)
        /// The last digit is not the GS1 check digit of the others.
        case badCheckDigit
    }
}

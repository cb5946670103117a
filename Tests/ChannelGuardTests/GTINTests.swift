import ChannelGuardCodes
import Testing

@Suite struct GTINTests {
    @Test(arguments: [
        ("06901234567892", "06901234567892"),  // GTIN-14 from the design examples
        ("4006381333931", "04006381333931"),  // GTIN-13 (EAN-13)
        ("036000291452", "00036000291452"),  // GTIN-12 (UPC-A)
        ("96385074", "00000096385074"),  // GTIN-8
    ])
    func validGTINsNormaliseTo14Digits(input: String, expected: String) throws {
        #expect(try GTIN(parsing: input).digits == expected)
    }

    @Test func badCheckDigitIsRejected() {
        #expect(throws: GTIN.ParseError.badCheckDigit) { try GTIN(parsing: "06901234567893") }
        #expect(throws: GTIN.ParseError.badCheckDigit) { try GTIN(parsing: "4006381333932") }
    }

    @Test func wrongLengthAndNonDigitsAreRejected() {
        #expect(throws: GTIN.ParseError.badLength(10)) { try GTIN(parsing: "0690123456") }
        #expect(throws: GTIN.ParseError.notNumeric(offset: 3)) { try GTIN(parsing: "069X1234567892") }
    }

    @Test func dataDigitsGetTheirCheckDigit() {
        #expect(GTIN(dataDigits: "0690123456789").digits == "06901234567892")
        #expect(GS1CheckDigit.isValid("106141411234567897"))  // an SSCC-18
        #expect(!GS1CheckDigit.isValid("106141411234567898"))
    }

    @Test func downstreamStepsAreTheCheckedOnes() {
        #expect(ScanStep.allCases.filter(\.isDownstream) == [.receive, .sell, .activate, .inspect])
    }
}

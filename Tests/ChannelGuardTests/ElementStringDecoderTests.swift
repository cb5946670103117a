import ChannelGuardCodes
import Testing

@Suite struct AITableTests {
    let table = AITable.standard

    @Test func everyDictionaryEntryLoads() throws {
        #expect(table.definitions.count > 400)  // ranges such as 3100-3105 and 91-99 expand
        let gtin = try #require(table["01"])
        #expect(gtin.isPredefinedLength && gtin.maximumLength == 14 && gtin.components[0].linters == [.csum, .gcppos2])
        #expect(gtin.digitalLinkQualifiers == [["22", "10", "21"], ["235"]])
        let serial = try #require(table["21"])
        #expect(!serial.isPredefinedLength && serial.minimumLength == 1 && serial.maximumLength == 20)
        #expect(serial.requisites.map { $0.map { $0.map(\.text) } } == [[["01"], ["03"], ["8006"]]])
        #expect(table["3103"]?.title == "NET WEIGHT (kg)")
        #expect(table["8006"]?.components.count == 2)
        #expect(table["99"] != nil && table["23"] == nil)
        #expect(
            table.aiLength(prefix: 1) == 2 && table.aiLength(prefix: 80) == 4 && table.aiLength(prefix: 14) == nil
                && table.aiLength(prefix: 23) == 3
        )
    }

    @Test func aMalformedDictionaryNamesTheLine() {
        #expect(throws: AITableError.self) { try AITable(dictionary: "01  *?  N14,nosuchcheck  # GTIN\n") }
        #expect(throws: AITableError.self) { try AITable(dictionary: "01  *?  N14\n0123  N4\n") }
    }
}

@Suite struct ElementStringDecoderTests {
    let decoder = ElementStringDecoder()
    let gs = "\u{1D}"

    func accepted(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> DecodedCode? {
        switch decoder.decode(text) {
        case .success(let code): return code
        case .failure(let rejection):
            Issue.record("rejected \(text.debugDescription): \(rejection)", sourceLocation: sourceLocation)
            return nil
        }
    }

    func rejection(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> CodeRejection? {
        switch decoder.decode(text) {
        case .success(let code):
            Issue.record("accepted \(text.debugDescription) as \(code.key)", sourceLocation: sourceLocation)
            return nil
        case .failure(let rejection): return rejection
        }
    }

    @Test func everyFormGivesTheSameKey() {
        let expected = DecodedCode.Key.item(gtin: "06901234567892", serial: "A1B2C3")
        for text in [
            "(01)06901234567892(21)A1B2C3",
            "(01) 06901234567892 (21) A1B2C3",  // as printed under the barcode
            "010690123456789221A1B2C3",  // variable-length AI last, no GS
            "]d2010690123456789221A1B2C3",
            "]Q3\u{1D}010690123456789221A1B2C3",  // FNC1 in first position transmitted as GS
            "]C1010690123456789221A1B2C3",
            "]e0010690123456789221A1B2C3",
            "]J1010690123456789221A1B2C3",
            "0106901234567892\u{1D}21A1B2C3",  // a GS after a fixed-length AI is tolerated
            "21A1B2C3\u{1D}0106901234567892",  // order does not matter
        ] {
            #expect(accepted(text)?.key == expected, "\(text.debugDescription)")
        }
    }

    @Test func variableLengthValuesEndAtGS() throws {
        let code = try #require(accepted("]d20106901234567892" + "21SER/1" + gs + "10LOT(7)" + gs + "17261231"))
        #expect(code.value(of: "21") == "SER/1")
        #expect(code.value(of: "10") == "LOT(7)")
        #expect(code.value(of: "17") == "261231")
        #expect(code.elements.map(\.offset) == [3, 19, 27, 36])
    }

    @Test func bracketsInsideValuesAreData() throws {
        let code = try #require(accepted("(01)06901234567892(21)A(B)(10)L1"))
        #expect(code.value(of: "21") == "A(B)")
        #expect(code.value(of: "10") == "L1")
    }

    @Test func ssccIsALogisticUnit() {
        #expect(accepted("(00)106141411234567897")?.key == .logisticUnit(sscc: "106141411234567897"))
        #expect(accepted("00106141411234567897")?.key == .logisticUnit(sscc: "106141411234567897"))
    }

    @Test func checkDigitsAreChecked() {
        let bad = rejection("(01)06901234567893(21)A1B2")
        #expect(bad?.reason == .badCheckDigit && bad?.offset == 17)
        #expect(rejection("(00)106141411234567898")?.reason == .badCheckDigit)
        // AI 8014 (MUDI) carries an alphanumeric check character pair.
        #expect(accepted("(01)06901234567892(21)X(8014)1987654Ad4X4bL5ttr2310c2K") != nil)
        let pair = rejection("(01)06901234567892(21)X(8014)1987654Ad4X4bL5ttr2310cXK")
        #expect(pair?.reason == .badCheckDigit && pair?.offset == 29 + 23)
    }

    @Test func lengthsAreChecked() {
        let short = rejection("(01)0690123456789(21)A")
        #expect(short?.reason == .badLength && short?.offset == 4)
        let long = rejection("(01)06901234567892(21)" + String(repeating: "A", count: 21))
        #expect(long?.reason == .badLength && long?.offset == 22 + 20)
        let cut = rejection("0106901234567")
        #expect(cut?.reason == .badLength && cut?.offset == 2)
        let gsInFixed = rejection("01069012345" + gs + "7892")
        #expect(gsInFixed?.reason == .badLength && gsInFixed?.offset == 11)
        #expect(rejection("(01)06901234567892(21)")?.reason == .badLength)
    }

    @Test func characterSetsAreChecked() {
        let serial = rejection("(01)06901234567892(21)AB#1")
        #expect(serial?.reason == .badCharset && serial?.offset == 24)
        let numeric = rejection("(01)0690123456789A(21)X")
        #expect(numeric?.reason == .badCharset && numeric?.offset == 17)
    }

    @Test func datesAreChecked() {
        let base = "(01)06901234567892(21)X"
        #expect(accepted(base + "(17)260200") != nil)  // day 00: end of month, allowed for expiry
        #expect(accepted(base + "(17)280229") != nil)  // 2028 is a leap year
        let month = rejection(base + "(17)261301")
        #expect(month?.reason == .badDate && month?.offset == 23 + 4 + 2)
        #expect(rejection(base + "(17)270229")?.reason == .badDate)
        #expect(rejection(base + "(7006)260200")?.reason == .badDate)  // yymmdd: no day 00
        #expect(rejection(base + "(8008)2611302460")?.reason == .badDate)  // hour 24
    }

    @Test func associationsAreChecked() {
        let orphan = rejection("(21)A1B2")
        #expect(orphan?.reason == .missingRequisite && orphan?.offset == 1)
        let both = rejection("(01)06901234567892(02)06901234567892(37)5")
        #expect(both?.reason == .exclusiveAIs)
        #expect(rejection("(01)06901234567892(21)A(235)B")?.reason == .exclusiveAIs)
        #expect(rejection("(01)06901234567892(21)A(21)B")?.reason == .duplicateAI)
        #expect(accepted("(01)06901234567892(21)A(21)A") != nil)
    }

    @Test func unknownAndMalformedInputIsNamed() {
        #expect(rejection("")?.reason == .empty)
        #expect(rejection("(14)12")?.reason == .unknownAI)
        #expect(rejection("(230)12")?.reason == .unknownAI)
        #expect(rejection("5012")?.reason == .unknownAI)
        #expect(rejection("(0)1")?.reason == .unknownAI)
        #expect(rejection("(01")?.reason == .badSyntax)
        #expect(rejection("]E04006381333931")?.reason == .badSymbologyIdentifier)
        #expect(rejection("]d")?.reason == .badSymbologyIdentifier)
        #expect(rejection("hello")?.reason == .unknownAI)
        #expect(rejection("(01)06901234567892(10)LOT1")?.reason == .notSerialised)
    }

    @Test func countryCodesAreChecked() {
        let base = "(01)06901234567892(21)X"
        #expect(accepted(base + "(422)156") != nil)  // China
        #expect(accepted(base + "(423)156840276") != nil)  // up to five countries
        let bad = rejection(base + "(423)156999")
        #expect(bad?.reason == .badValue && bad?.offset == 23 + 5 + 3)
        #expect(accepted(base + "(7030)999PROC1") != nil)  // 999 allowed for processors
        #expect(rejection(base + "(7030)998PROC1")?.reason == .badValue)
        #expect(ISO3166Count.value == 249)
    }

    @Test func currencyCodesAreChecked() {
        let base = "(01)06901234567892(21)X"
        #expect(accepted(base + "(30)5(3932)156199900") != nil)  // a price of CNY 1999.00
        let accepted = (0...999).filter { code in
            let digits = String(code)
            let value = String(repeating: "0", count: 3 - digits.count) + digits
            if case .success = decoder.decode(base + "(30)5(3932)" + value + "1") { return true }
            return false
        }
        #expect(accepted.count == 181 && accepted.contains(156) && accepted.contains(840) && accepted.contains(978))
        let bad = rejection(base + "(30)5(3932)157199900")
        #expect(bad?.reason == .badValue && bad?.offset == 23 + 5 + 6)
    }

    @Test func mediaTypesAndImporterIndexes() {
        // 7241 (AIDC media type) goes with a GSRN (8018).
        let gsrn = "(01)06901234567892(21)X(8018)106141411234567897"
        #expect(accepted(gsrn + "(7241)10") != nil)
        #expect(accepted(gsrn + "(7241)80") != nil)
        #expect(rejection(gsrn + "(7241)11")?.reason == .badValue)
        #expect(accepted("(01)06901234567892(21)X(7040)1AB_") != nil)
        #expect(rejection("(01)06901234567892(21)X(7040)1AB.")?.reason == .badValue)
    }

    @Test func alphaCountryCodesAndIBANsAreChecked() {
        let sscc = "(00)106141411234567897"
        #expect(accepted(sscc + "(4307)CN") != nil)  // ship-to country
        #expect(accepted(sscc + "(4317)DE") != nil)  // return-to country
        for bad in ["XX", "cn", "AA", "UK"] {  // unassigned, lower case, the BSI "UK" is not ISO
            let rejection = rejection(sscc + "(4307)" + bad)
            #expect(rejection?.reason == .badValue && rejection?.offset == 22 + 6, "\(bad)")
        }
        // AI 8007 needs 415 and 415 needs 8020; a valid set names no unit, so it ends not_serialised.
        let payment = "(415)0614141000418(8020)REF1(8007)"
        #expect(rejection(payment + "GB82WEST12345698765432")?.reason == .notSerialised)  // ISO 13616 example
        #expect(rejection(payment + "DE89370400440532013000")?.reason == .notSerialised)
        let wrongCheck = rejection(payment + "GB82WEST12345698765433")
        #expect(wrongCheck?.reason == .badCheckDigit && wrongCheck?.offset == 34 + 2)
        #expect(rejection(payment + "XX82WEST12345698765432")?.reason == .badValue)  // no such country
        #expect(rejection(payment + "GB8AWEST12345698765432")?.reason == .badValue)  // check digits not numeric
        #expect(rejection(payment + "GB82west12345698765432")?.reason == .badValue)  // lower case
        #expect(rejection(payment + "GB82")?.reason == .badValue)  // too short
    }

    @Test func packageTypesAreChecked() {
        let sscc = "(00)106141411234567897"
        for code in ["BX", "CT", "PK", "8", "200", "X11"] {
            #expect(accepted(sscc + "(7041)" + code) != nil, "\(code)")
        }
        for code in ["1C", "ZZZ", "bx", "AAAA", "0"] {
            let rejection = rejection(sscc + "(7041)" + code)
            #expect(rejection?.reason == .badValue || rejection?.reason == .badLength, "\(code)")
        }
    }

    /// AI (8110) and (8112): the examples of the GS1 US coupon layout, each field broken in turn.
    @Test func couponsAreChecked() {
        let base = "(01)06901234567892(21)X"
        func verdict(_ ai: String, _ value: String) -> CodeRejection? {
            if case .failure(let rejection) = CodeDecoder().decode(base + "(\(ai))" + value) { return rejection }
            return nil
        }
        let valueStart = 23 + 6  // where the coupon value starts in `base + "(8110)"`
        for good in [
            "012345612345611110123",  // prefix, offer, save value, first purchase
            "012345612345611110123" + "11312345699",  // + optional field 1 (second purchase, no prefix)
            "0123456123456111101233261231" + "4260101",  // expiry then an earlier start
            "012345612345611110123" + "50123456" + "611234567" + "90101",  // serial, retailer, miscellaneous
        ] {
            #expect(verdict("8110", good) == nil, "\(good)")
        }
        let bad: [(String, Int)] = [
            ("a12345612345611110123", 0),  // not all digits
            ("712345612345611110123", 0),  // prefix length indicator 7
            ("01234561234560", 13),  // save value length indicator 0
            ("012345612345611115123", 17),  // purchase requirement code 5
            ("0123456123456111101233261331", 24),  // expiry month 13
            ("0123456123456111101233260101" + "4261231", 22),  // expires before it starts
            ("012345612345611110123" + "7", 21),  // unknown optional field
            ("012345612345611110123" + "93000", 22),  // save value code 3
        ]
        for (value, offset) in bad {
            let rejection = verdict("8110", value)
            #expect(rejection?.offset == valueStart + offset, "\(value): \(String(describing: rejection))")
        }
        #expect(verdict("8112", "001234561234560123456") == nil)
        #expect(verdict("8112", "061234567890121234569123456789012345") == nil)
        #expect(verdict("8112", "201234561234560123456")?.offset == valueStart)  // format code 2
        #expect(verdict("8112", "0012345612345601234567")?.offset == valueStart + 21)  // excess data
        #expect(verdict("8112", "00123456123456012345")?.reason == .badValue)  // serial cut short
    }

    @Test func linterChecks() {
        let base = "(01)06901234567892(21)X"
        // An ITIP piece passes its checks; as a key it is not a single serialised unit for ChannelGuard.
        #expect(rejection("(8006)069012345678920102(21)X")?.reason == .notSerialised)
        #expect(rejection("(8006)069012345678920302(21)X")?.reason == .badValue)  // piece 3 of 2
        #expect(rejection("(00)106141411234567897(4322)2")?.reason == .badValue)  // yes/no
        #expect(rejection("(00)106141411234567897(4300)A%2")?.reason == .badValue)  // broken %-escape
        #expect(accepted("(00)106141411234567897(4300)ACME%20Co") != nil)
        #expect(rejection(base + "(7011)261301")?.reason == .badDate)  // month 13
        #expect(accepted(base + "(7011)2612312359") != nil)  // with the optional time
        #expect(rejection(base + "(7011)2612312360")?.reason == .badDate)  // minute 60
    }
}

/// The size of the ISO 3166 table, through a code the decoder accepts or not.
enum ISO3166Count {
    static var value: Int {
        (0...999).filter { code in
            let digits = String(code)
            let value = String(repeating: "0", count: 3 - digits.count) + digits
            if case .success = ElementStringDecoder().decode("(01)06901234567892(21)X(422)" + value) { return true }
            return false
        }.count
    }
}

import ChannelGuardCodes
import Testing

@Suite struct DigitalLinkDecoderTests {
    let decoder = CodeDecoder()

    func accepted(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> DecodedCode? {
        switch decoder.decode(text) {
        case .success(let code): return code
        case .failure(let rejection):
            Issue.record("rejected \(text): \(rejection)", sourceLocation: sourceLocation)
            return nil
        }
    }

    func rejection(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> CodeRejection? {
        if case .failure(let rejection) = decoder.decode(text) { return rejection }
        Issue.record("accepted \(text)", sourceLocation: sourceLocation)
        return nil
    }

    @Test func anyDomainAndPathPrefix() {
        let key = DecodedCode.Key.item(gtin: "06901234567892", serial: "A1B2C3")
        #expect(accepted("https://id.example.com/01/06901234567892/21/A1B2C3")?.key == key)
        #expect(accepted("http://brand.cn/products/scan/01/06901234567892/21/A1B2C3")?.key == key)
        #expect(accepted("HTTPS://ID.EXAMPLE.COM/01/06901234567892/21/A1B2C3/")?.key == key)
        #expect(accepted("https://id.example.com/01/06901234567892/21/A1B2C3#top")?.key == key)
        // A prefix segment that looks like a primary key does not confuse it.
        #expect(accepted("https://id.example.com/00/shop/01/06901234567892/21/A1B2C3")?.key == key)
    }

    @Test func qualifiersMustComeInTheSpecifiedOrder() {
        #expect(accepted("https://e.com/01/06901234567892/22/V1/10/L1/21/S1")?.value(of: "22") == "V1")
        #expect(accepted("https://e.com/01/06901234567892/10/L1/21/S1") != nil)
        let wrong = rejection("https://e.com/01/06901234567892/21/S1/10/L1")
        #expect(wrong?.reason == .badURI)
        #expect(rejection("https://e.com/01/06901234567892/21/S1/235/T")?.reason == .badURI)
        #expect(rejection("https://e.com/no/key/here")?.reason == .badURI)
    }

    @Test func percentEncodedSerialsMayHoldSlashes() throws {
        let code = try #require(accepted("https://e.com/01/06901234567892/21/A%2FB%25C"))
        #expect(code.key == .item(gtin: "06901234567892", serial: "A/B%C"))
        let broken = rejection("https://e.com/01/06901234567892/21/AB%2")
        #expect(broken?.reason == .badURI && broken?.offset == 37)
        // An escape that decodes to a character outside CSET 82 is named at the escape.
        let outside = rejection("https://e.com/01/06901234567892/21/A%23B")
        #expect(outside?.reason == .badCharset && outside?.offset == 36)
    }

    @Test func queryAttributesCountAndOtherParametersAreIgnored() throws {
        let code = try #require(
            accepted("https://e.com/01/06901234567892/21/S1?17=261231&10=LOT&utm_source=qr&99x=1&linkType=all")
        )
        #expect(code.value(of: "17") == "261231" && code.value(of: "10") == "LOT")
        #expect(code.elements.count == 4)
        #expect(rejection("https://e.com/01/06901234567892/21/S1?17=261331")?.reason == .badDate)
        #expect(rejection("https://e.com/01/06901234567892/21/S1?21=S2")?.reason == .badURI)
        #expect(rejection("https://e.com/01/06901234567892/10/L1?10=L2")?.reason == .duplicateAI)
    }

    @Test func aQuestionMarkInTheFragmentIsNotAQuery() {
        // Found by fuzzing: a fragment before '?' once made the query range inverted.
        #expect(accepted("https://id.ax.example.com/01/06901234567892/21/S#/?17=261232")?.elements.count == 2)
        #expect(
            rejection("https://id.ax.example.com/01/06901234567892#/?./A%2FB?1761232==1lx1")?.reason == .notSerialised
        )
    }

    @Test func shortGTINsAreNormalised() {
        #expect(accepted("https://e.com/01/4006381333931/21/S")?.key == .item(gtin: "04006381333931", serial: "S"))
        #expect(accepted("https://e.com/01/96385074/21/S")?.key == .item(gtin: "00000096385074", serial: "S"))
        let bad = rejection("https://e.com/01/4006381333932/21/S")
        #expect(bad?.reason == .badCheckDigit && bad?.offset == 17 + 12)
    }

    @Test func ssccAndUnserialisedKeys() {
        #expect(accepted("https://e.com/00/106141411234567897")?.key == .logisticUnit(sscc: "106141411234567897"))
        #expect(rejection("https://e.com/01/06901234567892")?.reason == .notSerialised)
        #expect(rejection("https://e.com")?.reason == .badURI)
    }
}

@Suite struct EPCURIDecoderTests {
    let decoder = CodeDecoder()

    @Test func sgtinAndSsccFromTheTagDataStandardExamples() throws {
        let sgtin = try decoder.decode("urn:epc:id:sgtin:0614141.812345.6789").get()
        #expect(sgtin.key == .item(gtin: "80614141123458", serial: "6789"))
        let sscc = try decoder.decode("urn:epc:id:sscc:0614141.1234567890").get()
        #expect(sscc.key == .logisticUnit(sscc: "106141412345678908"))
    }

    @Test(arguments: [6, 7, 8, 9, 10, 11, 12])
    func everyCompanyPrefixPartition(companyDigits: Int) throws {
        let gtin = "06901234567892"
        // indicator + company prefix + item reference, then the check digit.
        let data = Array(gtin.dropLast())
        let company = String(data[1...companyDigits])
        let reference = String(data[0]) + String(data[(companyDigits + 1)...])
        let code = try decoder.decode("urn:epc:id:sgtin:\(company).\(reference).S%2F1").get()
        #expect(code.key == .item(gtin: gtin, serial: "S/1"))
    }

    @Test func malformedURIsAreNamed() {
        func reason(_ text: String) -> CodeRejection.Reason? {
            if case .failure(let rejection) = decoder.decode(text) { return rejection.reason }
            return nil
        }
        #expect(reason("urn:epc:id:sgtin:06141.8123456.1") == .badLength)  // 5-digit company prefix
        #expect(reason("urn:epc:id:sgtin:0614141.81234.1") == .badLength)
        #expect(reason("urn:epc:id:sgtin:0614141.812345") == .badURI)
        #expect(reason("urn:epc:id:sgtin:061A141.812345.1") == .badCharset)
        #expect(reason("urn:epc:id:sgtin:0614141.812345.A#B") == .badCharset)
        #expect(reason("urn:epc:id:sgtin:0614141.812345." + String(repeating: "9", count: 21)) == .badLength)
        #expect(reason("urn:epc:id:grai:0614141.12345.400") == .badURI)
        #expect(reason("urn:epc:id:sscc:0614141.123456789") == .badLength)
    }
}

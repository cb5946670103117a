/// Decodes EPC pure-identity URIs (GS1 EPC Tag Data Standard, section 6.3):
/// `urn:epc:id:sgtin:CompanyPrefix.IndicatorAndItemReference.Serial` and
/// `urn:epc:id:sscc:CompanyPrefix.ExtensionAndSerialReference`, into the same canonical key as
/// the element strings. The company prefix has 6 to 12 digits (partitions 6 to 0 of the binary
/// encodings); with the item or serial reference it fills the 13 or 17 digits before the check digit.
public struct EPCURIDecoder: Sendable {
    public let elements: ElementStringDecoder

    public static let prefix = "urn:epc:id:"

    public init(elements: ElementStringDecoder = ElementStringDecoder()) {
        self.elements = elements
    }

    public static func recognises(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        input.count >= prefix.utf8.count && input[0] == UInt8(ascii: "u")
            && zip(prefix.utf8, input).allSatisfy { $0 == $1 }
    }

    public func decode(_ input: UnsafeBufferPointer<UInt8>) -> Result<DecodedCode, CodeRejection> {
        do throws(CodeRejection) {
            guard Self.recognises(input) else { throw CodeRejection(.badURI, at: 0, "not an EPC pure-identity URI") }
            let schemeStart = Self.prefix.utf8.count
            guard let colon = input[schemeStart...].firstIndex(of: UInt8(ascii: ":")) else {
                throw CodeRejection(.badURI, at: schemeStart, "no EPC scheme")
            }
            let scheme = String(decoding: UnsafeBufferPointer(rebasing: input[schemeStart..<colon]), as: UTF8.self)
            let fields = Self.fields(input, from: colon + 1)
            switch scheme {
            case "sgtin": return .success(try sgtin(input, fields))
            case "sscc": return .success(try sscc(input, fields))
            default:
                throw CodeRejection(
                    .badURI,
                    at: schemeStart,
                    "the EPC scheme '\(scheme)' is not a trade item or logistic unit"
                )
            }
        } catch {
            return .failure(error)
        }
    }

    private func sgtin(_ input: UnsafeBufferPointer<UInt8>, _ fields: [Range<Int>]) throws(CodeRejection) -> DecodedCode
    {
        guard fields.count == 3 else {
            throw CodeRejection(
                .badURI,
                at: fields.first?.lowerBound ?? 0,
                "an SGTIN URI has CompanyPrefix.ItemReference.Serial"
            )
        }
        let gtin = try key(input, fields[0], fields[1], total: 13)
        let (serial, offsets) = try DigitalLinkDecoder.percentDecoded(
            input,
            .init(start: fields[2].lowerBound, end: fields[2].upperBound)
        )
        let found = [
            DecodedCode.Element(ai: "01", value: String(decoding: gtin, as: UTF8.self), offset: fields[0].lowerBound),
            try elements.validate(ai: "21", value: serial, offsets: offsets, aiOffset: fields[2].lowerBound),
        ]
        return DecodedCode(key: try elements.key(of: found), elements: found)
    }

    private func sscc(_ input: UnsafeBufferPointer<UInt8>, _ fields: [Range<Int>]) throws(CodeRejection) -> DecodedCode
    {
        guard fields.count == 2 else {
            throw CodeRejection(
                .badURI,
                at: fields.first?.lowerBound ?? 0,
                "an SSCC URI has CompanyPrefix.SerialReference"
            )
        }
        let sscc = try key(input, fields[0], fields[1], total: 17)
        let found = [
            DecodedCode.Element(ai: "00", value: String(decoding: sscc, as: UTF8.self), offset: fields[0].lowerBound)
        ]
        return DecodedCode(key: try elements.key(of: found), elements: found)
    }

    /// The GTIN-14 or SSCC-18 digits: the reference's first digit (indicator or extension) moves to
    /// the front, then the company prefix (6–12 digits) and the rest of the reference — `total`
    /// digits together — then the computed check digit.
    private func key(
        _ input: UnsafeBufferPointer<UInt8>,
        _ companyField: Range<Int>,
        _ referenceField: Range<Int>,
        total: Int
    ) throws(CodeRejection) -> [UInt8] {
        for index in companyField.lowerBound..<referenceField.upperBound where index != companyField.upperBound {
            guard GS1Linter.digit(input[index]) != nil else {
                throw CodeRejection(.badCharset, at: index, "company prefix and reference are digits")
            }
        }
        guard (6...12).contains(companyField.count) else {
            throw CodeRejection(
                .badLength,
                at: companyField.lowerBound,
                "a company prefix has 6 to 12 digits, not \(companyField.count)"
            )
        }
        guard companyField.count + referenceField.count == total else {
            throw CodeRejection(
                .badLength,
                at: referenceField.lowerBound,
                "company prefix and reference must have \(total) digits together, not \(companyField.count + referenceField.count)"
            )
        }
        let data =
            [input[referenceField.lowerBound]] + Array(input[companyField]) + Array(input[referenceField.dropFirst()])
        return data + [UInt8(ascii: "0") + GS1CheckDigit.compute(forDataDigits: data)!]
    }

    /// The dot-separated fields after the scheme.
    private static func fields(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> [Range<Int>] {
        var fields: [Range<Int>] = []
        var fieldStart = start
        for index in start...input.count where index == input.count || input[index] == UInt8(ascii: ".") {
            fields.append(fieldStart..<index)
            fieldStart = index + 1
        }
        return fields
    }
}

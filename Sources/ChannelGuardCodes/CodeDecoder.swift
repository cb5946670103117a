/// Decodes any code a scanner sends: a GS1 Digital Link URI, an EPC pure-identity URI, or an
/// element string (bracketed, unbracketed, with or without a symbology identifier).
public struct CodeDecoder: Sendable {
    public let elementStrings: ElementStringDecoder
    public let digitalLinks: DigitalLinkDecoder
    public let epcURIs: EPCURIDecoder

    public init(table: AITable = .standard) {
        elementStrings = ElementStringDecoder(table: table)
        digitalLinks = DigitalLinkDecoder(elements: elementStrings)
        epcURIs = EPCURIDecoder(elements: elementStrings)
    }

    public func decode(_ input: UnsafeBufferPointer<UInt8>) -> Result<DecodedCode, CodeRejection> {
        if DigitalLinkDecoder.recognises(input) { return digitalLinks.decode(input) }
        if EPCURIDecoder.recognises(input) { return epcURIs.decode(input) }
        return elementStrings.decode(input)
    }

    public func decode(_ text: String) -> Result<DecodedCode, CodeRejection> {
        var text = text
        return text.withUTF8 { decode($0) }
    }
}

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

    /// What decoding many codes one after another remembers (see ``writeJSON(of:into:memo:)``).
    public struct Memo {
        var decode = DecodeMemo()
        public init() {}
    }

    /// Decodes one code and appends the JSON object `channelguard decode` prints for it — the same
    /// bytes as ``DecodedCode/json`` or ``CodeRejection/json`` — to `writer`. Element strings are
    /// written straight from the input's bytes; `memo` carries what the previous code validated.
    public func writeJSON(of input: UnsafeBufferPointer<UInt8>, into writer: inout JSONWriter, memo: inout Memo) {
        if DigitalLinkDecoder.recognises(input) || EPCURIDecoder.recognises(input) {
            switch decode(input) {
            case .success(let code): code.writeJSON(into: &writer)
            case .failure(let rejection): rejection.writeJSON(into: &writer)
            }
            return
        }
        if let rejection = elementStrings.writeJSON(input, memo: &memo.decode, into: &writer) {
            rejection.writeJSON(into: &writer)
        }
    }
}

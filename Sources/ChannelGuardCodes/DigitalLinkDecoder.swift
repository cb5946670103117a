/// Decodes GS1 Digital Link URIs (`https://id.example.com/any/prefix/01/06901234567892/21/A1B2?17=261231`):
/// any domain and path prefix, a primary key with its key qualifiers in the specified order,
/// percent-encoded values, data attributes in the query string. Query parameters that are not AIs
/// are ignored, as the standard says; values are validated like element strings.
public struct DigitalLinkDecoder: Sendable {
    public let elements: ElementStringDecoder

    public init(elements: ElementStringDecoder = ElementStringDecoder()) {
        self.elements = elements
    }

    /// Whether the input looks like an http(s) URI, so this decoder is the one to ask.
    public static func recognises(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        schemeLength(input) != nil
    }

    public func decode(_ input: UnsafeBufferPointer<UInt8>) -> Result<DecodedCode, CodeRejection> {
        do {
            let found = try parse(input)
            try elements.checkAssociations(found)
            return .success(DecodedCode(key: try elements.key(of: found), elements: found))
        } catch {
            return .failure(error)
        }
    }

    struct Segment {
        var start: Int
        var end: Int
    }

    private func parse(_ input: UnsafeBufferPointer<UInt8>) throws(CodeRejection) -> [DecodedCode.Element] {
        guard let scheme = Self.schemeLength(input) else { throw CodeRejection(.badURI, at: 0, "not an http(s) URI") }
        guard let pathStart = input[scheme...].firstIndex(of: UInt8(ascii: "/")), pathStart > scheme else {
            throw CodeRejection(.badURI, at: scheme, "the URI has no domain or no path")
        }
        // The fragment ends everything; a '?' after it belongs to the fragment.
        let fragmentStart = input[pathStart...].firstIndex(of: UInt8(ascii: "#")) ?? input.count
        let queryStart = input[pathStart..<fragmentStart].firstIndex(of: UInt8(ascii: "?"))
        let pathEnd = min(queryStart ?? input.count, fragmentStart)

        var segments: [Segment] = []
        var start = pathStart + 1
        for index in (pathStart + 1)...pathEnd where index == pathEnd || input[index] == UInt8(ascii: "/") {
            segments.append(Segment(start: start, end: index))
            start = index + 1
        }
        if let last = segments.last, last.start == last.end { segments.removeLast() }  // a trailing slash

        let keyIndex = try primaryKeyIndex(input, segments)
        var found: [DecodedCode.Element] = []
        var index = keyIndex
        while index < segments.count {
            let ai = text(input, segments[index])
            var (value, offsets) = try Self.percentDecoded(input, segments[index + 1])
            if ai == "01", [8, 12, 13].contains(value.count) {  // GTIN-8/12/13 normalised to 14 digits
                let pad = 14 - value.count
                value = [UInt8](repeating: UInt8(ascii: "0"), count: pad) + value
                offsets = [Int](repeating: segments[index + 1].start, count: pad) + offsets
            }
            try ElementStringDecoder.add(
                elements.validate(ai: ai, value: value, offsets: offsets, aiOffset: segments[index].start),
                to: &found
            )
            index += 2
        }

        if let queryStart {
            var parameterStart = queryStart + 1
            for index in (queryStart + 1)...fragmentStart
            where index == fragmentStart || input[index] == UInt8(ascii: "&") {
                let parameter = Segment(start: parameterStart, end: index)
                parameterStart = index + 1
                guard let equals = input[parameter.start..<parameter.end].firstIndex(of: UInt8(ascii: "=")) else {
                    continue
                }
                let key = text(input, Segment(start: parameter.start, end: equals))
                guard !key.isEmpty, key.utf8.allSatisfy({ GS1Linter.digit($0) != nil }),
                    let definition = elements.table[key]
                else {
                    continue  // not an AI: ignored
                }
                guard definition.isDigitalLinkAttribute else {
                    throw CodeRejection(
                        .badURI,
                        at: parameter.start,
                        "AI (\(key)) is not a Digital Link data attribute"
                    )
                }
                let (value, offsets) = try Self.percentDecoded(input, Segment(start: equals + 1, end: parameter.end))
                try ElementStringDecoder.add(
                    elements.validate(ai: key, value: value, offsets: offsets, aiOffset: parameter.start),
                    to: &found
                )
            }
        }
        return found
    }

    /// The leftmost path segment that starts a primary key followed by values and qualifiers in order.
    private func primaryKeyIndex(
        _ input: UnsafeBufferPointer<UInt8>,
        _ segments: [Segment]
    ) throws(CodeRejection) -> Int {
        candidates: for index in segments.indices where (segments.count - index) % 2 == 0 {
            guard let sequences = elements.table[text(input, segments[index])]?.digitalLinkQualifiers else { continue }
            let qualifiers = stride(from: index + 2, to: segments.count, by: 2).map { text(input, segments[$0]) }
            for sequence in sequences where Self.isOrderedSubsequence(qualifiers, of: sequence) {
                return index
            }
            continue candidates
        }
        throw CodeRejection(
            .badURI,
            at: segments.first?.start ?? 0,
            "no GS1 primary key (such as /01/GTIN or /00/SSCC) with its qualifiers in the specified order"
        )
    }

    static func isOrderedSubsequence(_ qualifiers: [String], of sequence: [String]) -> Bool {
        var position = sequence.startIndex
        for qualifier in qualifiers {
            guard let found = sequence[position...].firstIndex(of: qualifier) else { return false }
            position = found + 1
        }
        return true
    }

    /// The bytes of a segment with %XX escapes decoded, and where each came from.
    static func percentDecoded(
        _ input: UnsafeBufferPointer<UInt8>,
        _ segment: Segment
    ) throws(CodeRejection) -> ([UInt8], [Int]) {
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        var index = segment.start
        while index < segment.end {
            if input[index] == UInt8(ascii: "%") {
                guard index + 2 < segment.end, let high = hexValue(input[index + 1]),
                    let low = hexValue(input[index + 2])
                else { throw CodeRejection(.badURI, at: index, "a % must start a %XX escape") }
                bytes.append(high << 4 | low)
                offsets.append(index)
                index += 3
            } else {
                bytes.append(input[index])
                offsets.append(index)
                index += 1
            }
        }
        guard !bytes.isEmpty else { throw CodeRejection(.badLength, at: segment.start, "an empty value") }
        return (bytes, offsets)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// The length of `http://` or `https://` (any case) at the start, else `nil`.
    @inline(__always)
    static func schemeLength(_ input: UnsafeBufferPointer<UInt8>) -> Int? {
        // Most codes are element strings: one byte decides.
        guard input.count >= 7, input[0] | 0x20 == UInt8(ascii: "h") else { return nil }
        func matches(_ scheme: StaticString) -> Bool {
            guard input.count >= scheme.utf8CodeUnitCount else { return false }
            for index in 0..<scheme.utf8CodeUnitCount {
                let expected = scheme.utf8Start[index]
                guard input[index] == expected || input[index] | 0x20 == expected else { return false }
            }
            return true
        }
        if matches("https://") { return 8 }
        if matches("http://") { return 7 }
        return nil
    }

    private func text(_ input: UnsafeBufferPointer<UInt8>, _ segment: Segment) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: input[segment.start..<segment.end]), as: UTF8.self)
    }
}

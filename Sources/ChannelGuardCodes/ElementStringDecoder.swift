/// Decodes GS1 element strings: bracketed (`(01)06901234567892(21)A1B2`, also with the spaces of
/// printed text), or unbracketed with GS (0x1D) separators, each with or without an AIM symbology
/// identifier (`]C1`, `]d2`, `]Q3`, `]e0`, `]J1`). Every value is checked against its AI's
/// definition: length, character set, check digits, dates and the other Syntax Dictionary rules,
/// then requisite and mutually exclusive AIs.
public struct ElementStringDecoder: Sendable {
    public let table: AITable

    /// The GS character that ends a variable-length value (FNC1 as transmitted).
    public static let groupSeparator: UInt8 = 0x1D

    /// AIM symbology identifiers whose data are GS1 element strings.
    public static let gs1SymbologyIdentifiers: Set<String> = ["]C1", "]d2", "]Q3", "]e0", "]J1"]

    public init(table: AITable = .standard) {
        self.table = table
    }

    /// The most AIs one code may carry (real symbols hold far fewer); more is `too_many_ais`.
    public static let maximumElements = 32

    /// Decodes one code into its canonical key and elements.
    public func decode(_ text: String) -> Result<DecodedCode, CodeRejection> {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    public func decode(_ input: UnsafeBufferPointer<UInt8>) -> Result<DecodedCode, CodeRejection> {
        withSpans { spans in
            do throws(CodeRejection) {
                var memo = DecodeMemo()
                let found = try scanChecked(input, into: spans, memo: &memo)
                let elements = found.map { element($0, input) }
                return .success(DecodedCode(key: try key(of: elements), elements: elements))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Decodes one code as fully as ``decode(_:)-(UnsafeBufferPointer<UInt8>)`` checks it, but
    /// returns only its canonical key, read from the input: no allocation.
    public func decodeKey(_ input: UnsafeBufferPointer<UInt8>) -> Result<ScannedKey, CodeRejection> {
        var memo = DecodeMemo()
        return decodeKey(input, memo: &memo)
    }

    /// ``decodeKey(_:)`` for one code of many: `memo` skips the association rules for a sequence
    /// of AIs that passed them just before.
    func decodeKey(_ input: UnsafeBufferPointer<UInt8>, memo: inout DecodeMemo) -> Result<ScannedKey, CodeRejection> {
        withSpans { spans in
            do throws(CodeRejection) {
                return .success(try scannedKey(scanChecked(input, into: spans, memo: &memo), input))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Decodes one code and appends the JSON object ``DecodedCode/writeJSON(into:)`` writes for
    /// it, byte for byte, from the input's spans: no string is built. `memo` as in
    /// ``decodeKey(_:memo:)``.
    func writeJSON(
        _ input: UnsafeBufferPointer<UInt8>,
        memo: inout DecodeMemo,
        into writer: inout JSONWriter
    ) -> CodeRejection? {
        withSpans { spans in
            do throws(CodeRejection) {
                let found = try scanChecked(input, into: spans, memo: &memo)
                var sscc: ElementSpan?
                var gtin: ElementSpan?
                var serial: ElementSpan?
                let ais = table.compact.ais
                // The first of each, as DecodedCode's key takes them.
                for span in found {
                    switch Int(ais[Int(span.definition)].code) {
                    case Self.ssccCode where sscc == nil: sscc = span
                    case Self.gtinCode where gtin == nil: gtin = span
                    case Self.serialCode where serial == nil: serial = span
                    default: break
                    }
                }
                guard sscc != nil || (gtin != nil && serial != nil) else { throw Self.notSerialised }
                // Every value twice at most (the key, then the AIs), each byte escaped to six at
                // most; an AI's name, quotes and separators are eight.
                writer.write(atMost: 96 + 12 * input.count + 8 * found.count) { cursor in
                    func value(_ span: ElementSpan) {
                        cursor.string(UnsafeBufferPointer(rebasing: input[span.value]))
                    }
                    if let sscc {
                        cursor.raw("{\"ok\":true,\"kind\":\"sscc\",\"sscc\":")
                        value(sscc)
                    } else if let gtin, let serial {
                        cursor.raw("{\"ok\":true,\"kind\":\"sgtin\",\"gtin\":")
                        value(gtin)
                        cursor.raw(",\"serial\":")
                        value(serial)
                    }
                    cursor.raw(",\"ais\":{")
                    for (position, span) in found.enumerated() {
                        if position > 0 { cursor.byte(UInt8(ascii: ",")) }
                        // The AI's name from its packed digits ("01" is 0x0100).
                        let ai = ais[Int(span.definition)]
                        cursor.byte(0x22)
                        for digit in 0..<Int(ai.length) {
                            cursor.byte(0x30 + UInt8(truncatingIfNeeded: ai.digits >> UInt16(12 - 4 * digit)) & 0x0F)
                        }
                        cursor.raw("\":")
                        value(span)
                    }
                    cursor.raw("}}")
                }
                return nil
            } catch {
                return error
            }
        }
    }

    @inline(__always)
    private func withSpans<R>(_ body: (UnsafeMutableBufferPointer<ElementSpan>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: ElementSpan.self, capacity: Self.maximumElements, body)
    }

    /// Every element parsed and validated, then the requisite and exclusive AI rules, unless
    /// `memo` holds the same AI sequence as having passed them.
    private func scanChecked(
        _ input: UnsafeBufferPointer<UInt8>,
        into spans: UnsafeMutableBufferPointer<ElementSpan>,
        memo: inout DecodeMemo
    ) throws(CodeRejection) -> UnsafeBufferPointer<ElementSpan> {
        let found = UnsafeBufferPointer(rebasing: spans[0..<(try scan(input, into: spans))])
        let key = DecodeMemo.associationKey(found)
        if key == nil || key != memo.associations {
            try checkAssociations(found)
            memo.associations = key ?? 0
        }
        return found
    }

    /// Parses and validates the elements of an element string into `spans`; returns how many.
    func scan(
        _ input: UnsafeBufferPointer<UInt8>,
        into spans: UnsafeMutableBufferPointer<ElementSpan>
    ) throws(CodeRejection) -> Int {
        guard !input.isEmpty else { throw CodeRejection(.empty, at: 0, "no data") }
        var start = 0
        if input[0] == UInt8(ascii: "]") {
            guard input.count >= 3 else {
                throw CodeRejection(.badSymbologyIdentifier, at: 0, "truncated symbology identifier")
            }
            guard Self.isGS1SymbologyIdentifier(input[1], input[2]) else {
                let identifier = string(input, 0, 3)
                throw CodeRejection(.badSymbologyIdentifier, at: 0, "\(identifier) does not carry GS1 element strings")
            }
            start = 3
        }
        while start < input.count, input[start] == Self.groupSeparator { start += 1 }  // FNC1 in first position
        guard start < input.count else { throw CodeRejection(.empty, at: start, "no data after the prefix") }
        var count = 0
        if input[start] == UInt8(ascii: "(") {
            try parseBracketed(input, from: start, into: spans, count: &count)
        } else {
            try parseUnbracketed(input, from: start, into: spans, count: &count)
        }
        return count
    }

    /// `]C1`, `]d2`, `]Q3`, `]e0`, `]J1`: the identifiers in ``gs1SymbologyIdentifiers``.
    @inline(__always)
    static func isGS1SymbologyIdentifier(_ letter: UInt8, _ modifier: UInt8) -> Bool {
        switch (letter, modifier) {
        case (UInt8(ascii: "C"), UInt8(ascii: "1")), (UInt8(ascii: "d"), UInt8(ascii: "2")),
            (UInt8(ascii: "Q"), UInt8(ascii: "3")), (UInt8(ascii: "e"), UInt8(ascii: "0")),
            (UInt8(ascii: "J"), UInt8(ascii: "1")):
            true
        default: false
        }
    }

    private func parseUnbracketed(
        _ input: UnsafeBufferPointer<UInt8>,
        from start: Int,
        into spans: UnsafeMutableBufferPointer<ElementSpan>,
        count: inout Int
    ) throws(CodeRejection) {
        var position = start
        while position < input.count {
            let aiStart = position
            let (index, aiEnd) = try readAI(input, at: position, end: input.count)
            let ai = table.compact.ais[index]
            var valueEnd: Int
            if ai.isPredefinedLength {
                valueEnd = aiEnd + Int(ai.maximumLength)
                guard valueEnd <= input.count,
                    input[aiEnd..<valueEnd].firstIndex(of: Self.groupSeparator) == nil
                else {
                    let at = input[aiEnd..<min(valueEnd, input.count)].firstIndex(of: Self.groupSeparator) ?? aiEnd
                    throw CodeRejection(
                        .badLength,
                        at: at,
                        "AI (\(table.ordered[index].ai)) needs \(ai.maximumLength) characters"
                    )
                }
            } else {
                valueEnd = input[aiEnd...].firstIndex(of: Self.groupSeparator) ?? input.count
            }
            try validate(index, input, valueStart: aiEnd, valueEnd: valueEnd)
            let span = ElementSpan(definition: index, aiStart: aiStart, valueStart: aiEnd, valueEnd: valueEnd)
            try add(span, input, to: spans, count: &count)
            position = valueEnd
            if position < input.count, input[position] == Self.groupSeparator { position += 1 }
        }
    }

    private func parseBracketed(
        _ input: UnsafeBufferPointer<UInt8>,
        from start: Int,
        into spans: UnsafeMutableBufferPointer<ElementSpan>,
        count: inout Int
    ) throws(CodeRejection) {
        var position = start
        // The "(AI)" that ended the previous value, already read: not read again.
        var following: BracketedAI?
        while position < input.count {
            let index: Int
            let close: Int
            if let known = following, known.open == position {
                (index, close) = (known.index, known.close)
            } else {
                guard input[position] == UInt8(ascii: "(") else {
                    throw CodeRejection(.badSyntax, at: position, "expected '(' to start an AI")
                }
                guard let found = input[position...].firstIndex(of: UInt8(ascii: ")")) else {
                    throw CodeRejection(.badSyntax, at: position, "unclosed '('")
                }
                let (read, aiEnd) = try readAI(input, at: position + 1, end: found)
                guard aiEnd == found else {
                    throw CodeRejection(
                        .unknownAI,
                        at: position + 1,
                        "no such AI '\(string(input, position + 1, found))'"
                    )
                }
                (index, close) = (read, found)
            }
            var valueStart = close + 1
            while valueStart < input.count, input[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            // The value runs to the next "(AI)" that names a known AI; '(' alone is CSET 82 data.
            var valueEnd = valueStart
            following = nil
            while valueEnd < input.count {
                if let found = bracketedAI(input, at: valueEnd) {
                    following = found
                    break
                }
                // Only a '(' (perhaps after spaces) can start the next AI: go to the next one, back
                // over the spaces before it, but always past the position just checked.
                let checked = valueEnd
                var candidate = ByteScan.firstIndex(
                    of: UInt8(ascii: "("),
                    in: input,
                    from: checked + 1,
                    to: input.count
                )
                while candidate > checked + 1, input[candidate - 1] == UInt8(ascii: " ") { candidate -= 1 }
                valueEnd = candidate
            }
            var next = valueEnd
            while valueEnd > valueStart, input[valueEnd - 1] == UInt8(ascii: " ") { valueEnd -= 1 }
            try validate(index, input, valueStart: valueStart, valueEnd: valueEnd)
            let span = ElementSpan(definition: index, aiStart: position + 1, valueStart: valueStart, valueEnd: valueEnd)
            try add(span, input, to: spans, count: &count)
            if next < input.count, input[next] == UInt8(ascii: " ") { next += 1 }
            position = next
        }
    }

    /// A known AI in brackets: where its `(` and `)` are, and its place in the table.
    private struct BracketedAI {
        var open: Int
        var close: Int
        var index: Int
    }

    /// The known "(AI)" at `index`, after any spaces, or `nil`.
    @inline(__always)
    private func bracketedAI(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> BracketedAI? {
        var start = index
        while start < input.count, input[start] == UInt8(ascii: " ") { start += 1 }
        guard start < input.count, input[start] == UInt8(ascii: "(") else { return nil }
        let limit = min(input.count, start + 6)
        guard let close = input[start..<limit].firstIndex(of: UInt8(ascii: ")")),
            let (found, end) = table.readAI(input, at: start + 1, end: close), end == close
        else { return nil }
        return BracketedAI(open: start, close: close, index: found)
    }

    /// Reads the AI at `position` by the two-digit prefix rule; returns its index in the table and
    /// where it ends.
    private func readAI(
        _ input: UnsafeBufferPointer<UInt8>,
        at position: Int,
        end: Int
    ) throws(CodeRejection) -> (Int, Int) {
        if let found = table.readAI(input, at: position, end: end) { return found }
        guard position + 2 <= end, let high = GS1Linter.digit(input[position]),
            let low = GS1Linter.digit(input[position + 1])
        else {
            throw CodeRejection(.unknownAI, at: position, "expected an Application Identifier (digits)")
        }
        guard let length = table.aiLength(prefix: high * 10 + low), position + length <= end else {
            throw CodeRejection(.unknownAI, at: position, "no AI starts with \(high)\(low)")
        }
        throw CodeRejection(.unknownAI, at: position, "no such AI '\(string(input, position, position + length))'")
    }

    /// Adds an element; the same AI again is fine with the same value and rejected with another.
    private func add(
        _ span: ElementSpan,
        _ input: UnsafeBufferPointer<UInt8>,
        to spans: UnsafeMutableBufferPointer<ElementSpan>,
        count: inout Int
    ) throws(CodeRejection) {
        for earlier in spans[0..<count] where earlier.definition == span.definition {
            guard input[earlier.value].elementsEqual(input[span.value]) else {
                throw CodeRejection(
                    .duplicateAI,
                    at: Int(span.aiStart),
                    "AI (\(table.ordered[Int(span.definition)].ai)) appears twice with different values"
                )
            }
            return
        }
        guard count < spans.count else {
            throw CodeRejection(.tooManyAIs, at: Int(span.aiStart), "a code carries at most \(spans.count) AIs")
        }
        spans[count] = span
        count += 1
    }

    private func element(_ span: ElementSpan, _ input: UnsafeBufferPointer<UInt8>) -> DecodedCode.Element {
        DecodedCode.Element(
            ai: table.ordered[Int(span.definition)].ai,
            value: string(input, Int(span.valueStart), Int(span.valueEnd)),
            offset: Int(span.aiStart)
        )
    }

    /// Applies the AI's components to the value: lengths, character sets, linters. `index` is the
    /// AI's place in ``AITable/ordered``.
    func validate(
        _ index: Int,
        _ input: UnsafeBufferPointer<UInt8>,
        valueStart: Int,
        valueEnd: Int
    ) throws(CodeRejection) {
        let compact = table.compact
        let ai = compact.ais[index]
        let count = valueEnd - valueStart
        guard count >= ai.minimumLength else {
            throw CodeRejection(
                .badLength,
                at: valueStart,
                "AI (\(table.ordered[index].ai)) needs at least \(ai.minimumLength) characters, got \(count)"
            )
        }
        guard count <= ai.maximumLength else {
            throw CodeRejection(
                .badLength,
                at: valueStart + Int(ai.maximumLength),
                "AI (\(table.ordered[index].ai)) takes at most \(ai.maximumLength) characters, got \(count)"
            )
        }
        var position = valueStart
        for componentIndex in ai.components {
            let component = compact.components[Int(componentIndex)]
            let remaining = valueEnd - position
            if remaining == 0 && component.isOptional { break }
            let length = min(remaining, Int(component.maximumLength))
            guard length >= component.minimumLength else {
                throw CodeRejection(
                    .badLength,
                    at: position,
                    "AI (\(table.ordered[index].ai)): a component is cut short"
                )
            }
            if let bad = component.characterSet.firstNonMember(input, position..<position + length) {
                throw CodeRejection(
                    .badCharset,
                    at: bad,
                    "AI (\(table.ordered[index].ai)): '\(Self.printable(input[bad]))' is not in \(Self.name(component.characterSet))"
                )
            }
            if !component.linters.isEmpty {
                let slice = UnsafeBufferPointer(rebasing: input[position..<position + length])
                for linterIndex in component.linters {
                    if let failure = compact.linters[Int(linterIndex)].check(slice) {
                        throw CodeRejection(
                            failure.reason,
                            at: position + failure.offset,
                            "AI (\(table.ordered[index].ai)): \(failure.message)"
                        )
                    }
                }
            }
            position += length
        }
        guard position == valueEnd else {
            throw CodeRejection(.badLength, at: position, "AI (\(table.ordered[index].ai)): value too long")
        }
    }

    func string(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: input[start..<end]), as: UTF8.self)
    }

    static func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    static func name(_ set: GS1CharacterSet) -> String {
        switch set {
        case .numeric: "the digits"
        case .cset82: "CSET 82"
        case .cset39: "CSET 39"
        case .cset64: "CSET 64"
        }
    }
}

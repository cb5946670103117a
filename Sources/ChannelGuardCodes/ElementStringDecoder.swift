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

    /// Decodes one code into its canonical key and elements.
    public func decode(_ text: String) -> Result<DecodedCode, CodeRejection> {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    public func decode(_ input: UnsafeBufferPointer<UInt8>) -> Result<DecodedCode, CodeRejection> {
        do {
            let elements = try parse(input)
            try checkAssociations(elements)
            return .success(DecodedCode(key: try key(of: elements), elements: elements))
        } catch {
            return .failure(error)
        }
    }

    /// The elements of an element string, each value validated, without association rules.
    func parse(_ input: UnsafeBufferPointer<UInt8>) throws(CodeRejection) -> [DecodedCode.Element] {
        guard !input.isEmpty else { throw CodeRejection(.empty, at: 0, "no data") }
        var start = 0
        if input[0] == UInt8(ascii: "]") {
            guard input.count >= 3 else {
                throw CodeRejection(.badSymbologyIdentifier, at: 0, "truncated symbology identifier")
            }
            let identifier = String(decoding: UnsafeBufferPointer(rebasing: input[0..<3]), as: UTF8.self)
            guard Self.gs1SymbologyIdentifiers.contains(identifier) else {
                throw CodeRejection(.badSymbologyIdentifier, at: 0, "\(identifier) does not carry GS1 element strings")
            }
            start = 3
        }
        while start < input.count, input[start] == Self.groupSeparator { start += 1 }  // FNC1 in first position
        guard start < input.count else { throw CodeRejection(.empty, at: start, "no data after the prefix") }
        var elements: [DecodedCode.Element] = []
        if input[start] == UInt8(ascii: "(") {
            try parseBracketed(input, from: start, into: &elements)
        } else {
            try parseUnbracketed(input, from: start, into: &elements)
        }
        return elements
    }

    private func parseUnbracketed(
        _ input: UnsafeBufferPointer<UInt8>,
        from start: Int,
        into elements: inout [DecodedCode.Element]
    ) throws(CodeRejection) {
        var position = start
        while position < input.count {
            let aiStart = position
            let (definition, aiEnd) = try readAI(input, at: position, end: input.count)
            var valueEnd: Int
            if definition.isPredefinedLength {
                valueEnd = aiEnd + definition.maximumLength
                guard valueEnd <= input.count else {
                    throw CodeRejection(
                        .badLength,
                        at: aiEnd,
                        "AI (\(definition.ai)) needs \(definition.maximumLength) characters"
                    )
                }
                if let gs = input[aiEnd..<valueEnd].firstIndex(of: Self.groupSeparator) {
                    throw CodeRejection(
                        .badLength,
                        at: gs,
                        "AI (\(definition.ai)) needs \(definition.maximumLength) characters"
                    )
                }
            } else {
                valueEnd = input[aiEnd...].firstIndex(of: Self.groupSeparator) ?? input.count
            }
            try validate(definition, input, aiStart: aiStart, valueStart: aiEnd, valueEnd: valueEnd)
            try append(definition, input, aiStart: aiStart, valueStart: aiEnd, valueEnd: valueEnd, to: &elements)
            position = valueEnd
            if position < input.count, input[position] == Self.groupSeparator { position += 1 }
        }
    }

    private func parseBracketed(
        _ input: UnsafeBufferPointer<UInt8>,
        from start: Int,
        into elements: inout [DecodedCode.Element]
    ) throws(CodeRejection) {
        var position = start
        while position < input.count {
            guard input[position] == UInt8(ascii: "(") else {
                throw CodeRejection(.badSyntax, at: position, "expected '(' to start an AI")
            }
            guard let close = input[position...].firstIndex(of: UInt8(ascii: ")")) else {
                throw CodeRejection(.badSyntax, at: position, "unclosed '('")
            }
            let (definition, aiEnd) = try readAI(input, at: position + 1, end: close)
            guard aiEnd == close else {
                throw CodeRejection(.unknownAI, at: position + 1, "no such AI '\(string(input, position + 1, close))'")
            }
            var valueStart = close + 1
            while valueStart < input.count, input[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            // The value runs to the next "(AI)" that names a known AI; '(' alone is CSET 82 data.
            var valueEnd = valueStart
            while valueEnd < input.count, !startsBracketedAI(input, at: valueEnd) { valueEnd += 1 }
            var next = valueEnd
            while valueEnd > valueStart, input[valueEnd - 1] == UInt8(ascii: " ") { valueEnd -= 1 }
            try validate(definition, input, aiStart: position + 1, valueStart: valueStart, valueEnd: valueEnd)
            try append(
                definition,
                input,
                aiStart: position + 1,
                valueStart: valueStart,
                valueEnd: valueEnd,
                to: &elements
            )
            if next < input.count, input[next] == UInt8(ascii: " ") { next += 1 }
            position = next
        }
    }

    private func startsBracketedAI(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        var start = index
        while start < input.count, input[start] == UInt8(ascii: " ") { start += 1 }
        guard start < input.count, input[start] == UInt8(ascii: "("),
            let close = input[start...].prefix(6).firstIndex(of: UInt8(ascii: ")"))
        else { return false }
        return table[string(input, start + 1, close)] != nil
    }

    /// Reads the AI at `position` by the two-digit prefix rule; returns its definition and where it ends.
    private func readAI(
        _ input: UnsafeBufferPointer<UInt8>,
        at position: Int,
        end: Int
    ) throws(CodeRejection) -> (AIDefinition, Int) {
        guard position + 2 <= end, let high = GS1Linter.digit(input[position]),
            let low = GS1Linter.digit(input[position + 1])
        else {
            throw CodeRejection(.unknownAI, at: position, "expected an Application Identifier (digits)")
        }
        guard let length = table.aiLength(prefix: high * 10 + low), position + length <= end else {
            throw CodeRejection(.unknownAI, at: position, "no AI starts with \(high)\(low)")
        }
        let ai = string(input, position, position + length)
        guard ai.utf8.allSatisfy({ GS1Linter.digit($0) != nil }), let definition = table[ai] else {
            throw CodeRejection(.unknownAI, at: position, "no such AI '\(ai)'")
        }
        return (definition, position + length)
    }

    /// Applies the AI's components to the value: lengths, character sets, linters.
    private func validate(
        _ definition: AIDefinition,
        _ input: UnsafeBufferPointer<UInt8>,
        aiStart: Int,
        valueStart: Int,
        valueEnd: Int
    ) throws(CodeRejection) {
        let count = valueEnd - valueStart
        guard count >= definition.minimumLength else {
            throw CodeRejection(
                .badLength,
                at: valueStart,
                "AI (\(definition.ai)) needs at least \(definition.minimumLength) characters, got \(count)"
            )
        }
        guard count <= definition.maximumLength else {
            throw CodeRejection(
                .badLength,
                at: valueStart + definition.maximumLength,
                "AI (\(definition.ai)) takes at most \(definition.maximumLength) characters, got \(count)"
            )
        }
        var position = valueStart
        for component in definition.components {
            let remaining = valueEnd - position
            if remaining == 0 && component.isOptional { break }
            let length = min(remaining, component.maximumLength)
            guard length >= component.minimumLength else {
                throw CodeRejection(.badLength, at: position, "AI (\(definition.ai)): a component is cut short")
            }
            for index in position..<position + length where !component.characterSet.contains(input[index]) {
                throw CodeRejection(
                    .badCharset,
                    at: index,
                    "AI (\(definition.ai)): '\(Self.printable(input[index]))' is not in \(Self.name(component.characterSet))"
                )
            }
            let slice = UnsafeBufferPointer(rebasing: input[position..<position + length])
            for linter in component.linters {
                if let failure = linter.check(slice) {
                    throw CodeRejection(
                        failure.reason,
                        at: position + failure.offset,
                        "AI (\(definition.ai)): \(failure.message)"
                    )
                }
            }
            position += length
        }
        guard position == valueEnd else {
            throw CodeRejection(.badLength, at: position, "AI (\(definition.ai)): value too long")
        }
    }

    private func append(
        _ definition: AIDefinition,
        _ input: UnsafeBufferPointer<UInt8>,
        aiStart: Int,
        valueStart: Int,
        valueEnd: Int,
        to elements: inout [DecodedCode.Element]
    ) throws(CodeRejection) {
        let element = DecodedCode.Element(
            ai: definition.ai,
            value: string(input, valueStart, valueEnd),
            offset: aiStart
        )
        try Self.add(element, to: &elements)
    }

    /// Adds an element; the same AI again is fine with the same value and rejected with another.
    static func add(_ element: DecodedCode.Element, to elements: inout [DecodedCode.Element]) throws(CodeRejection) {
        if let earlier = elements.first(where: { $0.ai == element.ai }) {
            guard earlier.value == element.value else {
                throw CodeRejection(
                    .duplicateAI,
                    at: element.offset,
                    "AI (\(element.ai)) appears twice with different values"
                )
            }
            return
        }
        elements.append(element)
    }

    /// Requisite AIs present, mutually exclusive AIs absent.
    func checkAssociations(_ elements: [DecodedCode.Element]) throws(CodeRejection) {
        let present = elements.map(\.ai)
        for element in elements {
            guard let definition = table[element.ai] else { continue }
            for rule in definition.requisites {
                let satisfied = rule.contains { alternative in
                    alternative.allSatisfy { pattern in present.contains(where: pattern.matches) }
                }
                if !satisfied {
                    let wanted = rule.map { $0.map(\.text).joined(separator: "+") }.joined(separator: " or ")
                    throw CodeRejection(.missingRequisite, at: element.offset, "AI (\(element.ai)) needs \(wanted)")
                }
            }
            for pattern in definition.exclusions {
                if let other = present.first(where: { $0 != element.ai && pattern.matches($0) }) {
                    throw CodeRejection(.exclusiveAIs, at: element.offset, "AI (\(element.ai)) excludes AI (\(other))")
                }
            }
        }
    }

    /// Validates one AI value given on its own (a Digital Link path segment or query value):
    /// `offsets[i]` is where byte `i` of the value sits in the original input.
    func validate(
        ai: String,
        value: [UInt8],
        offsets: [Int],
        aiOffset: Int
    ) throws(CodeRejection) -> DecodedCode.Element {
        guard let definition = table[ai] else { throw CodeRejection(.unknownAI, at: aiOffset, "no such AI '\(ai)'") }
        do {
            try value.withUnsafeBufferPointer { buffer throws(CodeRejection) in
                try validate(definition, buffer, aiStart: 0, valueStart: 0, valueEnd: buffer.count)
            }
        } catch {
            let position =
                error.offset < offsets.count ? offsets[error.offset] : (offsets.last.map { $0 + 1 } ?? aiOffset)
            throw CodeRejection(error.reason, at: position, error.message)
        }
        return DecodedCode.Element(ai: ai, value: String(decoding: value, as: UTF8.self), offset: aiOffset)
    }

    /// The canonical key: an SSCC for a logistic unit, else GTIN + serial; anything else names no single unit.
    func key(of elements: [DecodedCode.Element]) throws(CodeRejection) -> DecodedCode.Key {
        let lookup = { (ai: String) in elements.first { $0.ai == ai }?.value }
        if let sscc = lookup("00") { return .logisticUnit(sscc: sscc) }
        if let gtin = lookup("01"), let serial = lookup("21") { return .item(gtin: gtin, serial: serial) }
        throw CodeRejection(
            .notSerialised,
            at: 0,
            "the code names no single unit: it needs AI (01) with (21), or AI (00)"
        )
    }

    private func string(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
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

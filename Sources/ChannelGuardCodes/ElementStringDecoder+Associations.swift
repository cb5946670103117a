extension ElementStringDecoder {
    /// Requisite AIs present, mutually exclusive AIs absent.
    func checkAssociations(_ spans: UnsafeBufferPointer<ElementSpan>) throws(CodeRejection) {
        let compact = table.compact
        func isPresent(_ pattern: CompactAITable.Pattern) -> Bool {
            spans.contains { pattern.matches(compact.ais[Int($0.definition)]) }
        }
        for span in spans {
            let ai = compact.ais[Int(span.definition)]
            for rule in ai.requisites {
                let satisfied = compact.rules[Int(rule)].contains { alternative in
                    compact.alternatives[Int(alternative)].allSatisfy { isPresent(compact.patterns[Int($0)]) }
                }
                if !satisfied {
                    let definition = table.ordered[Int(span.definition)]
                    let wanted = definition.requisites[Int(rule - ai.requisites.lowerBound)]
                        .map { $0.map(\.text).joined(separator: "+") }.joined(separator: " or ")
                    throw CodeRejection(
                        .missingRequisite,
                        at: Int(span.aiStart),
                        "AI (\(definition.ai)) needs \(wanted)"
                    )
                }
            }
            for exclusion in ai.exclusions {
                let pattern = compact.patterns[Int(exclusion)]
                for other in spans where other.definition != span.definition {
                    if pattern.matches(compact.ais[Int(other.definition)]) {
                        throw CodeRejection(
                            .exclusiveAIs,
                            at: Int(span.aiStart),
                            "AI (\(table.ordered[Int(span.definition)].ai)) excludes AI (\(table.ordered[Int(other.definition)].ai))"
                        )
                    }
                }
            }
        }
    }

    /// The same rules for elements found as strings (Digital Link and EPC URIs).
    func checkAssociations(_ elements: [DecodedCode.Element]) throws(CodeRejection) {
        let spans = elements.compactMap { element in
            table.index(code: AITable.code(of: element.ai)).map {
                ElementSpan(definition: $0, aiStart: element.offset, valueStart: 0, valueEnd: 0)
            }
        }
        try spans.withUnsafeBufferPointer { spans throws(CodeRejection) in try checkAssociations(spans) }
    }

    /// The canonical key, read from the input: an SSCC for a logistic unit, else GTIN + serial;
    /// anything else names no single unit.
    func scannedKey(
        _ spans: UnsafeBufferPointer<ElementSpan>,
        _ input: UnsafeBufferPointer<UInt8>
    ) throws(CodeRejection)
        -> ScannedKey
    {
        var gtin: ElementSpan?
        var serial: ElementSpan?
        for span in spans {
            switch Int(table.compact.ais[Int(span.definition)].code) {
            case Self.ssccCode:
                return ScannedKey(kind: .logisticUnit, key: Self.number(input, span.value), serial: 0..<0)
            case Self.gtinCode: gtin = span
            case Self.serialCode: serial = span
            default: break
            }
        }
        guard let gtin, let serial else { throw Self.notSerialised }
        return ScannedKey(kind: .item, key: Self.number(input, gtin.value), serial: serial.value)
    }

    static let ssccCode = 0
    static let gtinCode = 100
    static let serialCode = 2_100

    static let notSerialised = CodeRejection(
        .notSerialised,
        at: 0,
        "the code names no single unit: it needs AI (01) with (21), or AI (00)"
    )

    /// A validated numeric value (at most 19 digits) as a number.
    @inline(__always)
    static func number(_ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
        var value: UInt64 = 0
        for index in range { value = value &* 10 &+ UInt64(input[index] &- UInt8(ascii: "0")) }
        return value
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

    /// Validates one AI value given on its own (a Digital Link path segment or query value):
    /// `offsets[i]` is where byte `i` of the value sits in the original input.
    func validate(
        ai: String,
        value: [UInt8],
        offsets: [Int],
        aiOffset: Int
    ) throws(CodeRejection) -> DecodedCode.Element {
        guard let index = table.index(code: AITable.code(of: ai)), table.ordered[index].ai == ai else {
            throw CodeRejection(.unknownAI, at: aiOffset, "no such AI '\(ai)'")
        }
        do {
            try value.withUnsafeBufferPointer { buffer throws(CodeRejection) in
                try validate(index, buffer, valueStart: 0, valueEnd: buffer.count)
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
        throw Self.notSerialised
    }

}

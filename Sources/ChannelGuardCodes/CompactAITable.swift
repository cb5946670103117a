/// The AI table flattened for decoding: plain values in contiguous arrays, indexed by number, with
/// no reference-counted field, so checking an element copies and retains nothing.
///
/// ``AIDefinition`` holds strings and nested arrays; reading one from an array retains each of
/// them. Profiling the decoder showed those retains and releases as its largest cost, hence this
/// second form of the same facts, built once from the definitions.
struct CompactAITable: Sendable {
    struct AI: Sendable {
        /// ``AITable/code(of:)`` of the AI, and its number of digits.
        var code: UInt16
        var length: UInt8
        /// The code's four digits packed four bits each (`"01"` → 0x0100), for pattern matching.
        var digits: UInt16
        var isPredefinedLength: Bool
        var minimumLength: UInt16
        var maximumLength: UInt16
        /// Into ``components``.
        var components: Range<UInt16>
        /// Into ``rules``: each `req=` rule.
        var requisites: Range<UInt16>
        /// Into ``patterns``: the `ex=` patterns.
        var exclusions: Range<UInt16>
    }

    struct Component: Sendable {
        var characterSet: GS1CharacterSet
        var minimumLength: UInt16
        var maximumLength: UInt16
        var isOptional: Bool
        /// Into ``linters``.
        var linters: Range<UInt16>
    }

    /// An AI pattern (`31nn`) as packed decimal digits with a mask for the wildcards.
    struct Pattern: Sendable {
        var digits: UInt16
        /// 0xF for each digit that must match, 0 for `n`.
        var mask: UInt16
        var length: UInt8

        init(_ pattern: AIPattern) {
            // `n` reads as 0 in the code; the mask leaves those digits out.
            digits = CompactAITable.packedDigits(AITable.code(of: pattern.text))
            var mask: UInt16 = 0
            for (position, byte) in pattern.text.utf8.prefix(4).enumerated() where byte != UInt8(ascii: "n") {
                mask |= 0xF << (12 - 4 * position)
            }
            self.mask = mask
            length = UInt8(pattern.text.utf8.count)
        }

        @inline(__always)
        func matches(_ ai: AI) -> Bool {
            ai.length == length && ai.digits & mask == digits
        }
    }

    var ais: [AI] = []
    var components: [Component] = []
    var linters: [GS1Linter] = []
    /// Each rule: a range of ``alternatives``; each alternative: a range of ``patterns`` that must all be present.
    var rules: [Range<UInt16>] = []
    var alternatives: [Range<UInt16>] = []
    var patterns: [Pattern] = []

    init(_ definitions: [AIDefinition]) {
        func range(_ start: Int, _ end: Int) -> Range<UInt16> { UInt16(start)..<UInt16(end) }
        for definition in definitions {
            let componentStart = components.count
            for component in definition.components {
                let linterStart = linters.count
                linters += component.linters
                components.append(
                    Component(
                        characterSet: component.characterSet,
                        minimumLength: UInt16(component.minimumLength),
                        maximumLength: UInt16(component.maximumLength),
                        isOptional: component.isOptional,
                        linters: range(linterStart, linters.count)
                    )
                )
            }
            let ruleStart = rules.count
            for rule in definition.requisites {
                let alternativeStart = alternatives.count
                for alternative in rule {
                    let patternStart = patterns.count
                    patterns += alternative.map(Pattern.init)
                    alternatives.append(range(patternStart, patterns.count))
                }
                rules.append(range(alternativeStart, alternatives.count))
            }
            let exclusionStart = patterns.count
            patterns += definition.exclusions.map(Pattern.init)
            ais.append(
                AI(
                    code: UInt16(definition.code),
                    length: UInt8(definition.ai.utf8.count),
                    digits: Self.packedDigits(definition.code),
                    isPredefinedLength: definition.isPredefinedLength,
                    minimumLength: UInt16(definition.minimumLength),
                    maximumLength: UInt16(definition.maximumLength),
                    components: range(componentStart, components.count),
                    requisites: range(ruleStart, rules.count),
                    exclusions: range(exclusionStart, patterns.count)
                )
            )
        }
    }

    /// `0100` → 0x0100: each decimal digit in four bits.
    static func packedDigits(_ code: Int) -> UInt16 {
        let thousands = (code / 1_000) << 12
        let hundreds = (code / 100 % 10) << 8
        let tens = (code / 10 % 10) << 4
        return UInt16(thousands | hundreds | tens | code % 10)
    }
}

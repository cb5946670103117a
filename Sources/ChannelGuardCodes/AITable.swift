import Foundation

/// The table of GS1 Application Identifiers, built from the GS1 Barcode Syntax Dictionary shipped
/// in this module's resources (release 2026-01-27, Apache-2.0, notice beside it).
public struct AITable: Sendable {
    public let definitions: [String: AIDefinition]
    /// The definitions in AI order, for decoding by number instead of by string.
    let ordered: [AIDefinition]
    /// The same definitions, flattened for the decoder's hot path.
    let compact: CompactAITable
    /// For each AI code (``code(of:)``, 0–9999), its index in ``ordered``; -1 for none.
    private let indexByCode: [Int16]
    /// The AI length for each two-digit prefix (GS1 assigns lengths by the first two digits); 0 unassigned.
    private let lengthByPrefix: [Int]

    /// The table of the bundled dictionary, parsed once.
    public static let standard: AITable = {
        do {
            let url = Bundle.module.url(forResource: "gs1-syntax-dictionary", withExtension: "txt")!
            return try AITable(dictionary: String(contentsOf: url, encoding: .utf8))
        } catch {
            fatalError("the bundled GS1 Syntax Dictionary does not load: \(error)")
        }
    }()

    public subscript(ai: String) -> AIDefinition? { definitions[ai] }

    /// The AI's digits padded on the right to four, as a number: `"01"` → 100, `"8006"` → 8006.
    /// Unique for assigned AIs, because GS1 fixes an AI's length by its first two digits.
    public static func code(of ai: String) -> Int {
        var code = 0
        for byte in ai.utf8.prefix(4) { code = code * 10 + (GS1Linter.digit(byte) ?? 0) }
        for _ in min(4, ai.utf8.count)..<4 { code *= 10 }
        return code
    }

    /// The index in ``ordered`` of the AI with this code, or `nil`.
    @inline(__always)
    func index(code: Int) -> Int? {
        let index = indexByCode[code]
        return index < 0 ? nil : Int(index)
    }

    /// Reads the AI whose digits start at `position` (its length fixed by the first two digits),
    /// without building a string: its index in ``ordered`` and where it ends, or `nil`.
    @inline(__always)
    func readAI(_ input: UnsafeBufferPointer<UInt8>, at position: Int, end: Int) -> (index: Int, end: Int)? {
        guard position + 2 <= end, let high = GS1Linter.digit(input[position]),
            let low = GS1Linter.digit(input[position + 1])
        else { return nil }
        let length = lengthByPrefix[high * 10 + low]
        guard length != 0, position + length <= end else { return nil }
        var code = high * 10 + low
        for offset in 2..<4 {
            if offset < length {
                guard let digit = GS1Linter.digit(input[position + offset]) else { return nil }
                code = code * 10 + digit
            } else {
                code *= 10
            }
        }
        return index(code: code).map { ($0, position + length) }
    }

    /// The length of the AI whose first two digits are `prefix` (0–99), or `nil` when none is assigned.
    public func aiLength(prefix: Int) -> Int? {
        let length = lengthByPrefix[prefix]
        return length == 0 ? nil : length
    }

    /// Parses the Syntax Dictionary text format.
    public init(dictionary: String) throws(AITableError) {
        var definitions: [String: AIDefinition] = [:]
        var lengths = [Int](repeating: 0, count: 100)
        var lineNumber = 0
        for rawLine in dictionary.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let (body, title) = Self.splitTitle(rawLine)
            let tokens = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = tokens.first else { continue }
            let ais = try Self.expand(first, line: lineNumber)
            var index = 1
            var flags = ""
            if index < tokens.count, tokens[index].allSatisfy({ !$0.isLetter && !$0.isNumber && $0 != "[" }) {
                flags = tokens[index]
                index += 1
            }
            var components: [AIComponent] = []
            while index < tokens.count, let head = tokens[index].first, "NXYZ[".contains(head) {
                components.append(try Self.component(tokens[index], line: lineNumber))
                index += 1
            }
            guard !components.isEmpty else { throw AITableError(line: lineNumber, reason: "no components") }
            var requisites: [[[AIPattern]]] = []
            var exclusions: [AIPattern] = []
            var qualifiers: [[String]]?
            for attribute in tokens[index...] {
                let parts = attribute.split(separator: "=", maxSplits: 1).map(String.init)
                switch parts[0] {
                case "req" where parts.count == 2:
                    requisites.append(
                        parts[1].split(separator: ",").map {
                            $0.split(separator: "+").map { AIPattern(text: String($0)) }
                        }
                    )
                case "ex" where parts.count == 2:
                    exclusions += parts[1].split(separator: ",").map { AIPattern(text: String($0)) }
                case "dlpkey":
                    qualifiers =
                        parts.count == 2
                        ? parts[1].split(separator: "|").map { $0.split(separator: ",").map(String.init) } : [[]]
                default:
                    throw AITableError(line: lineNumber, reason: "unknown attribute '\(attribute)'")
                }
            }
            for ai in ais {
                let prefix = Int(ai.prefix(2))!
                if lengths[prefix] != 0 && lengths[prefix] != ai.count {
                    throw AITableError(line: lineNumber, reason: "AI \(ai) breaks the length of its prefix \(prefix)")
                }
                lengths[prefix] = ai.count
                definitions[ai] = AIDefinition(
                    ai: ai,
                    code: Self.code(of: ai),
                    title: title,
                    isPredefinedLength: flags.contains("*"),
                    isDigitalLinkAttribute: flags.contains("?"),
                    components: components,
                    requisites: requisites,
                    exclusions: exclusions,
                    digitalLinkQualifiers: qualifiers
                )
            }
        }
        self.definitions = definitions
        self.ordered = definitions.values.sorted { $0.ai < $1.ai }
        self.compact = CompactAITable(ordered)
        var indexByCode = [Int16](repeating: -1, count: 10_000)
        for (index, definition) in ordered.enumerated() { indexByCode[definition.code] = Int16(index) }
        self.indexByCode = indexByCode
        self.lengthByPrefix = lengths
    }

    private static func splitTitle(_ line: Substring) -> (Substring, String) {
        guard let hash = line.firstIndex(of: "#") else { return (line, "") }
        return (line[..<hash], line[line.index(after: hash)...].trimmingCharacters(in: .whitespaces))
    }

    /// `"3100-3105"` → the six AIs; `"01"` → itself.
    private static func expand(_ token: String, line: Int) throws(AITableError) -> [String] {
        let bounds = token.split(separator: "-").map(String.init)
        guard (1...2).contains(bounds.count),
            bounds.allSatisfy({ (2...4).contains($0.count) && $0.allSatisfy(\.isNumber) }),
            let low = Int(bounds[0]), let high = Int(bounds.last!), low <= high, bounds[0].count == bounds.last!.count
        else { throw AITableError(line: line, reason: "malformed AI '\(token)'") }
        return (low...high).map { value in
            let digits = String(value)
            return String(repeating: "0", count: bounds[0].count - digits.count) + digits
        }
    }

    /// `"N13,csum,gcppos1"`, `"[X..17]"`, `"[N3],iso3166"`.
    private static func component(_ token: String, line: Int) throws(AITableError) -> AIComponent {
        var text = Substring(token)
        var optional = false
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { throw AITableError(line: line, reason: "unclosed '['") }
            optional = true
            text = text[text.index(after: text.startIndex)..<close] + text[text.index(after: close)...]
        }
        let parts = text.split(separator: ",")
        let spec = parts[0]
        guard let set = GS1CharacterSet(rawValue: String(spec.prefix(1))) else {
            throw AITableError(line: line, reason: "unknown character set in '\(token)'")
        }
        let length = spec.dropFirst()
        let minimum: Int
        let maximum: Int
        if length.hasPrefix("..") {
            minimum = 1
            guard let value = Int(length.dropFirst(2)) else {
                throw AITableError(line: line, reason: "bad length in '\(token)'")
            }
            maximum = value
        } else {
            guard let value = Int(length) else { throw AITableError(line: line, reason: "bad length in '\(token)'") }
            minimum = value
            maximum = value
        }
        var linters: [GS1Linter] = []
        for name in parts.dropFirst() {
            guard let linter = GS1Linter(rawValue: String(name)) else {
                throw AITableError(line: line, reason: "unknown linter '\(name)'")
            }
            linters.append(linter)
        }
        return AIComponent(
            characterSet: set,
            minimumLength: minimum,
            maximumLength: maximum,
            isOptional: optional,
            linters: linters
        )
    }
}

/// A line of the Syntax Dictionary that could not be read.
public struct AITableError: Error, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "GS1 Syntax Dictionary line \(line): \(reason)" }
}

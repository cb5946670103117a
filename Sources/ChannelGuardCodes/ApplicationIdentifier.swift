/// One component of an AI's value: its character set, length and the checks that apply to it.
public struct AIComponent: Hashable, Sendable {
    public var characterSet: GS1CharacterSet
    public var minimumLength: Int
    public var maximumLength: Int
    /// Optional components may be absent when the value ends before them.
    public var isOptional: Bool
    public var linters: [GS1Linter]
}

/// A pattern naming AIs in requisite and exclusion rules: digits, `n` for any digit (`31nn`).
public struct AIPattern: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public func matches(_ ai: String) -> Bool {
        guard ai.utf8.count == text.utf8.count else { return false }
        return zip(text.utf8, ai.utf8).allSatisfy { $0 == UInt8(ascii: "n") || $0 == $1 }
    }

    public var description: String { text }
}

/// The definition of one Application Identifier, from the GS1 Barcode Syntax Dictionary.
public struct AIDefinition: Hashable, Sendable {
    public let ai: String
    /// The AI's digits padded on the right to four, as a number (`"01"` → 100): unique, because the
    /// first two digits fix an AI's length.
    public let code: Int
    public let title: String
    /// A pre-defined length AI: no FNC1 separator is needed after it ("*" flag).
    public let isPredefinedLength: Bool
    /// Allowed as a GS1 Digital Link data attribute ("?" flag).
    public let isDigitalLinkAttribute: Bool
    public let components: [AIComponent]
    /// Each `req=` rule: satisfied when one alternative (a set of AIs that must all be present) is.
    public let requisites: [[[AIPattern]]]
    /// AIs that must not appear together with this one (`ex=`).
    public let exclusions: [AIPattern]
    /// For a Digital Link primary key: the alternative sequences of key qualifiers (`dlpkey`).
    public let digitalLinkQualifiers: [[String]]?

    public var minimumLength: Int { components.filter { !$0.isOptional }.reduce(0) { $0 + $1.minimumLength } }
    public var maximumLength: Int { components.reduce(0) { $0 + $1.maximumLength } }
}

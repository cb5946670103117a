/// A code that passed every check, with its canonical key and every AI as transmitted.
public struct DecodedCode: Hashable, Sendable {
    /// One AI and its value, in input order.
    public struct Element: Hashable, Sendable {
        public var ai: String
        public var value: String
        /// Where the AI starts in the input.
        public var offset: Int
    }

    /// What the code identifies: one trade item, or one logistic unit.
    public enum Key: Hashable, Sendable {
        /// A serialised trade item: GTIN-14 and serial (AI 01 + 21).
        case item(gtin: String, serial: String)
        /// A carton or pallet (AI 00).
        case logisticUnit(sscc: String)
    }

    public var key: Key
    public var elements: [Element]

    /// The value of `ai`, if present.
    public func value(of ai: String) -> String? {
        elements.first { $0.ai == ai }?.value
    }
}

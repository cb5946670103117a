/// One AI found in a code, as positions in the input rather than strings, so decoding into a batch
/// allocates nothing.
struct ElementSpan {
    /// The AI's index in ``AITable/ordered``.
    var definition: Int32
    /// Where the AI's digits start (for messages and rule offsets).
    var aiStart: Int32
    /// The value's bytes: `valueStart..<valueEnd`.
    var valueStart: Int32
    var valueEnd: Int32

    init(definition: Int, aiStart: Int, valueStart: Int, valueEnd: Int) {
        self.definition = Int32(definition)
        self.aiStart = Int32(aiStart)
        self.valueStart = Int32(valueStart)
        self.valueEnd = Int32(valueEnd)
    }

    var value: Range<Int> { Int(valueStart)..<Int(valueEnd) }
}

/// The canonical key of a code, read from the input bytes without building strings.
public struct ScannedKey: Hashable, Sendable {
    public var kind: ScanBatch.KeyKind
    /// The GTIN-14 (items) or SSCC-18 (logistic units) as a number.
    public var key: UInt64
    /// Where the serial is in the input; empty for a logistic unit.
    public var serial: Range<Int>

    public init(kind: ScanBatch.KeyKind, key: UInt64, serial: Range<Int>) {
        self.kind = kind
        self.key = key
        self.serial = serial
    }
}

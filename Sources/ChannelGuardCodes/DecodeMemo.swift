/// What one decoding pass over many codes or lines (a datagram, a frame, a file) remembers from one
/// to the next, to skip work that repeats exactly:
///
/// - the last sequence of AIs that passed the requisite and exclusion rules (those rules depend
///   only on which AIs are present, and a gateway's codes nearly always carry the same ones);
/// - the last date (`YYYY-MM-DD`) read from a scan time and its day number (a batch's scans
///   nearly always fall on one day).
///
/// A hit means the same AIs in the same order, or the same ten date bytes, so decoding with a memo
/// gives exactly the results of decoding without one; only validated facts are remembered.
struct DecodeMemo {
    /// The AI definitions of the last code that passed the association rules, packed by
    /// ``associationKey(_:)``; 0 when none.
    var associations: UInt64 = 0
    /// The first eight and the next two bytes of the last valid date; never both zero once set,
    /// since a date holds a `-`.
    var dateHead: UInt64 = 0
    var dateTail: UInt16 = 0
    var dateDays = 0

    init() {}

    /// Up to four AI definitions, each plus one in 16 bits; `nil` for more (not remembered).
    @inline(__always)
    static func associationKey(_ spans: UnsafeBufferPointer<ElementSpan>) -> UInt64? {
        guard spans.count <= 4 else { return nil }
        var key: UInt64 = 0
        for (position, span) in spans.enumerated() {
            guard span.definition >= 0, span.definition < Int32(UInt16.max) else { return nil }
            key |= UInt64(span.definition + 1) << UInt64(16 * position)
        }
        return key
    }
}

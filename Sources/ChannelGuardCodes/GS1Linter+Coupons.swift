extension GS1Linter.Failure: Error {}

/// The coupon checks: AI (8110), the North American coupon code, and AI (8112), the positive offer
/// file coupon code, as the GS1 US coupon guideline lays them out — digits only, fields led by
/// length indicators, optional fields introduced by their number, in order.
extension GS1Linter {
    static func couponCode(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        do throws(Failure) {
            var reader = try CouponReader(data)
            try reader.field(indicators: 0...6, plus: 6, "company prefix")
            try reader.fixed(6, "offer code")
            try reader.field(indicators: 1...5, plus: 0, "save value")
            try reader.purchase("first purchase")
            if reader.take(optional: 1) {
                try reader.code(allowed: "0123", "additional purchase rules code")
                try reader.purchase("second purchase")
                try reader.companyPrefixOrNone("second purchase company prefix")
            }
            if reader.take(optional: 2) {
                try reader.purchase("third purchase")
                try reader.companyPrefixOrNone("third purchase company prefix")
            }
            var expiry: Range<Int>?
            if reader.take(optional: 3) { expiry = try reader.date("expiration date") }
            if reader.take(optional: 4) {
                let start = try reader.date("start date")
                if let expiry, data[start].lexicographicallyPrecedes(data[expiry]) == false,
                    !data[start].elementsEqual(data[expiry])
                {
                    throw Failure(
                        reason: .badValue,
                        offset: expiry.lowerBound,
                        message: "coupon: expires before it starts"
                    )
                }
            }
            if reader.take(optional: 5) { try reader.field(indicators: 0...9, plus: 6, "serial number") }
            if reader.take(optional: 6) {
                try reader.field(indicators: 1...7, plus: 6, "retailer company prefix or GLN")
            }
            if reader.take(optional: 9) {
                try reader.code(allowed: "01256", "save value code")
                try reader.code(allowed: "012", "save value applies to item")
                try reader.code(allowed: "0123456789", "store coupon flag")
                try reader.code(allowed: "01", "don't multiply flag")
            }
            try reader.end()
            return nil
        } catch {
            return error
        }
    }

    static func couponPositiveOffer(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        do throws(Failure) {
            var reader = try CouponReader(data)
            try reader.code(allowed: "01", "format code")
            try reader.field(indicators: 0...6, plus: 6, "funder")
            try reader.fixed(6, "offer code")
            try reader.field(indicators: 0...9, plus: 6, "serial number")
            try reader.end()
            return nil
        } catch {
            return error
        }
    }
}

/// Reads a coupon's digits field by field, naming the first field that is wrong or cut short.
struct CouponReader {
    private let data: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ data: UnsafeBufferPointer<UInt8>) throws(GS1Linter.Failure) {
        if let bad = data.firstIndex(where: { GS1Linter.digit($0) == nil }) {
            throw GS1Linter.Failure(reason: .badValue, offset: bad, message: "coupon: a coupon code is all digits")
        }
        self.data = data
    }

    private func failure(_ message: String, at offset: Int? = nil) -> GS1Linter.Failure {
        GS1Linter.Failure(reason: .badValue, offset: offset ?? position, message: "coupon: " + message)
    }

    private mutating func digit(_ name: String) throws(GS1Linter.Failure) -> Int {
        guard position < data.count else { throw failure("the \(name) is missing") }
        defer { position += 1 }
        return Int(data[position] - UInt8(ascii: "0"))
    }

    /// A length indicator in `indicators`, then `indicator + plus` digits.
    mutating func field(indicators: ClosedRange<Int>, plus: Int, _ name: String) throws(GS1Linter.Failure) {
        let at = position
        let indicator = try digit("\(name) length")
        guard indicators.contains(indicator) else {
            throw failure("the \(name) length indicator is out of range", at: at)
        }
        try fixed(indicator + plus, name)
    }

    /// A company prefix led by 0–6 (6 to 12 digits), or the indicator 9 for none.
    mutating func companyPrefixOrNone(_ name: String) throws(GS1Linter.Failure) {
        let at = position
        let indicator = try digit("\(name) length")
        if indicator == 9 { return }
        guard indicator <= 6 else { throw failure("the \(name) length indicator is out of range", at: at) }
        try fixed(indicator + 6, name)
    }

    mutating func fixed(_ count: Int, _ name: String) throws(GS1Linter.Failure) {
        guard data.count - position >= count else { throw failure("the \(name) is cut short") }
        position += count
    }

    /// One digit from `allowed`.
    mutating func code(allowed: StaticString, _ name: String) throws(GS1Linter.Failure) {
        let at = position
        let value = UInt8(ascii: "0") + UInt8(try digit(name))
        let choices = UnsafeBufferPointer(start: allowed.utf8Start, count: allowed.utf8CodeUnitCount)
        guard choices.contains(value) else { throw failure("the \(name) is not one of \(allowed)", at: at) }
    }

    /// A purchase requirement (length indicator 1–5 and value), its code (0–4 or 9) and family code.
    mutating func purchase(_ name: String) throws(GS1Linter.Failure) {
        try field(indicators: 1...5, plus: 0, "\(name) requirement")
        try code(allowed: "012349", "\(name) requirement code")
        try fixed(3, "\(name) family code")
    }

    /// A YYMMDD date; returns where it is.
    mutating func date(_ name: String) throws(GS1Linter.Failure) -> Range<Int> {
        let start = position
        try fixed(6, name)
        let range = start..<position
        if let problem = GS1Linter.date(
            UnsafeBufferPointer(rebasing: data[range]),
            yearDigits: 2,
            dayZeroAllowed: false
        ) {
            throw GS1Linter.Failure(
                reason: problem.reason,
                offset: start + problem.offset,
                message: "coupon \(name): \(problem.message)"
            )
        }
        return range
    }

    /// Takes the optional field's number if it comes next.
    mutating func take(optional number: Int) -> Bool {
        guard position < data.count, Int(data[position] - UInt8(ascii: "0")) == number else { return false }
        position += 1
        return true
    }

    func end() throws(GS1Linter.Failure) {
        guard position == data.count else { throw failure("unexpected data after the last field") }
    }
}

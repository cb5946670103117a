/// The optional `KEY=VALUE` fields of a protocol line.
enum LineField: String, CaseIterable {
    /// Sale price in CNY with up to 2 decimals (`1999.00`).
    case price
    /// The scanning party: a distributor code (`ST-440305`); for ship scans, the consignee.
    case party
    /// The scanning device (1–64 printable ASCII characters).
    case device
    /// The gateway's sequence number for the event.
    case seq
    /// Latitude and longitude in decimal degrees (up to 6 decimals).
    case lat, lon

    static func apply(
        _ line: UnsafeBufferPointer<UInt8>,
        _ field: Range<Int>,
        to event: inout ScanBatch.Event,
        seen: inout Set<String>
    ) throws(CodeRejection) {
        guard let equals = line[field].firstIndex(of: UInt8(ascii: "=")), equals > field.lowerBound else {
            throw CodeRejection(.badField, at: field.lowerBound, "optional fields are KEY=VALUE")
        }
        let name = String(decoding: UnsafeBufferPointer(rebasing: line[field.lowerBound..<equals]), as: UTF8.self)
        guard let key = LineField(rawValue: name) else {
            let known = allCases.map(\.rawValue).joined(separator: ", ")
            throw CodeRejection(.unknownField, at: field.lowerBound, "unknown field '\(name)' (known: \(known))")
        }
        guard seen.insert(name).inserted else {
            throw CodeRejection(.duplicateField, at: field.lowerBound, "the field '\(name)' appears twice")
        }
        let valueStart = equals + 1
        let value = UnsafeBufferPointer(rebasing: line[valueStart..<field.upperBound])
        func bad(_ message: String) -> CodeRejection { CodeRejection(.badField, at: valueStart, "\(name): \(message)") }
        switch key {
        case .price:
            guard let fen = decimal(value, fractionDigits: 2, allowSign: false), fen <= 100_000_000_000 else {
                throw bad("a price like 1999.00, at most 2 decimals")
            }
            event.price = fen
        case .party:
            guard (1...32).contains(value.count), value.allSatisfy(isPartyCharacter), value[0] != UInt8(ascii: "-")
            else {
                throw bad("a distributor code: A–Z, 0–9, '-' and '_', at most 32")
            }
            event.party = ArraySlice(value)
        case .device:
            guard (1...64).contains(value.count), value.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw bad("1 to 64 printable ASCII characters")
            }
            event.device = ArraySlice(value)
        case .seq:
            guard (1...20).contains(value.count), value.allSatisfy({ GS1Linter.digit($0) != nil }),
                let sequence = UInt64(String(decoding: value, as: UTF8.self))
            else { throw bad("a whole number below 2^64") }
            event.sequence = sequence
        case .lat, .lon:
            let limit: Int64 = key == .lat ? 90_000_000 : 180_000_000
            guard let micro = decimal(value, fractionDigits: 6, allowSign: true), abs(micro) <= limit else {
                throw bad(key == .lat ? "degrees between -90 and 90" : "degrees between -180 and 180")
            }
            if key == .lat { event.latitude = Int32(micro) } else { event.longitude = Int32(micro) }
        }
    }

    static func isPartyCharacter(_ byte: UInt8) -> Bool {
        GS1Linter.digit(byte) != nil || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// A decimal with at most `fractionDigits` decimals, scaled to an integer (`12.5` → 1250 for 2).
    static func decimal(_ text: UnsafeBufferPointer<UInt8>, fractionDigits: Int, allowSign: Bool) -> Int64? {
        var index = 0
        var negative = false
        if allowSign, index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        var value: Int64 = 0
        var integerDigits = 0
        while index < text.count, let digit = GS1Linter.digit(text[index]) {
            guard integerDigits < 12 else { return nil }
            value = value * 10 + Int64(digit)
            integerDigits += 1
            index += 1
        }
        guard integerDigits > 0 else { return nil }
        var fraction = 0
        if index < text.count, text[index] == UInt8(ascii: ".") {
            index += 1
            while index < text.count, let digit = GS1Linter.digit(text[index]) {
                guard fraction < fractionDigits else { return nil }
                value = value * 10 + Int64(digit)
                fraction += 1
                index += 1
            }
            guard fraction > 0 else { return nil }
        }
        guard index == text.count else { return nil }
        for _ in fraction..<fractionDigits { value *= 10 }
        return negative ? -value : value
    }
}

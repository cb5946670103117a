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

    /// The field named by wire bytes, compared without building a string.
    @inline(__always)
    init?(bytes: UnsafeBufferPointer<UInt8>) {
        guard (3...6).contains(bytes.count), let packed = WireReader.packedName(bytes) else { return nil }
        self.init(packed: packed)
    }

    /// The field whose name's bytes, first byte lowest, are `packed`.
    @inline(__always)
    init?(packed: UInt64) {
        switch packed {
        case 0x65_6369_7270: self = .price
        case 0x79_7472_6170: self = .party
        case 0x6563_6976_6564: self = .device
        case 0x71_6573: self = .seq
        case 0x74_616C: self = .lat
        case 0x6E_6F6C: self = .lon
        default: return nil
        }
    }

    /// This field's bit in the set of fields a line has used.
    var bit: UInt8 {
        switch self {
        case .price: 1
        case .party: 2
        case .device: 4
        case .seq: 8
        case .lat: 16
        case .lon: 32
        }
    }

    static func apply(
        _ line: UnsafeBufferPointer<UInt8>,
        _ field: Range<Int>,
        to scanned: inout LineProtocolDecoder.ScannedLine,
        seen: inout UInt8
    ) throws(CodeRejection) {
        let key: LineField
        let equals: Int
        if let (quick, at) = quickName(line, field) {
            (key, equals) = (quick, at)
        } else {
            guard let found = line[field].firstIndex(of: UInt8(ascii: "=")), found > field.lowerBound else {
                throw CodeRejection(.badField, at: field.lowerBound, "optional fields are KEY=VALUE")
            }
            let nameBytes = UnsafeBufferPointer(rebasing: line[field.lowerBound..<found])
            guard let named = LineField(bytes: nameBytes) else {
                let name = String(decoding: nameBytes, as: UTF8.self)
                let known = allCases.map(\.rawValue).joined(separator: ", ")
                throw CodeRejection(.unknownField, at: field.lowerBound, "unknown field '\(name)' (known: \(known))")
            }
            (key, equals) = (named, found)
        }
        guard seen & key.bit == 0 else {
            throw CodeRejection(.duplicateField, at: field.lowerBound, "the field '\(key.rawValue)' appears twice")
        }
        seen |= key.bit
        let valueStart = equals + 1
        let value = UnsafeBufferPointer(rebasing: line[valueStart..<field.upperBound])
        func bad(_ message: String) -> CodeRejection {
            CodeRejection(.badField, at: valueStart, "\(key.rawValue): \(message)")
        }
        switch key {
        case .price:
            guard let fen = decimal(value, fractionDigits: 2, allowSign: false), fen <= 100_000_000_000 else {
                throw bad("a price like 1999.00, at most 2 decimals")
            }
            scanned.event.price = fen
        case .party:
            guard isPartyCode(value, 0..<value.count) else {
                throw bad("a distributor code: A–Z, 0–9, '-' and '_', at most 32")
            }
            scanned.party = valueStart..<field.upperBound
        case .device:
            guard isDevice(value, 0..<value.count) else {
                throw bad("1 to 64 printable ASCII characters")
            }
            scanned.device = valueStart..<field.upperBound
        case .seq:
            guard let sequence = wholeNumber(value) else { throw bad("a whole number below 2^64") }
            scanned.event.sequence = sequence
        case .lat, .lon:
            let limit: Int64 = key == .lat ? 90_000_000 : 180_000_000
            guard let micro = decimal(value, fractionDigits: 6, allowSign: true), abs(micro) <= limit else {
                throw bad(key == .lat ? "degrees between -90 and 90" : "degrees between -180 and 180")
            }
            if key == .lat { scanned.event.latitude = Int32(micro) } else { scanned.event.longitude = Int32(micro) }
        }
    }

    /// The known field name before the `=` in the field's first eight bytes, read with one load:
    /// `nil` sends the field to the byte-by-byte path (which also names any problem).
    @inline(__always)
    static func quickName(_ line: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> (LineField, Int)? {
        guard field.lowerBound + 8 <= line.count, let base = line.baseAddress else { return nil }
        let word = UInt64(littleEndian: UnsafeRawPointer(base + field.lowerBound).loadUnaligned(as: UInt64.self))
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let x = word ^ 0x3D3D_3D3D_3D3D_3D3D  // '='
        let equalsBytes = ~(((x & low) &+ low) | x | low)  // the high bit of each '=' byte
        let length = equalsBytes.trailingZeroBitCount / 8  // 8 when there is none
        guard (3...6).contains(length), field.lowerBound + length < field.upperBound else { return nil }
        let name = word & ((1 << UInt64(8 * length)) - 1)
        // A NUL last would pack like a shorter name ("lat\0" as "lat"); inside, it matches nothing.
        guard name >> UInt64(8 * (length - 1)) != 0, let key = LineField(packed: name) else { return nil }
        return (key, field.lowerBound + length)
    }

    /// 1 to 20 digits below 2^64.
    static func wholeNumber(_ text: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard (1...20).contains(text.count) else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard let digit = GS1Linter.digit(byte) else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// A distributor code: 1 to 32 of A–Z, 0–9, '-' and '_', not starting with '-' (the same rule
    /// for protocol lines and binary records).
    @inline(__always)
    static func isPartyCode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard (1...32).contains(range.count), bytes[range.lowerBound] != UInt8(ascii: "-") else { return false }
        return ByteClass.all(bytes, range, ByteClass.party)
    }

    /// A device name: 1 to 64 printable ASCII characters (the same rule for lines and binary records).
    @inline(__always)
    static func isDevice(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        (1...64).contains(range.count) && ByteClass.all(bytes, range, ByteClass.printable)
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

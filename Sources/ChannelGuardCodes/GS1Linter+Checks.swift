extension GS1Linter {
    static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// The two-digit (or longer) decimal at `start`, or `nil` if any byte is not a digit.
    static func decimal(_ data: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        guard start + count <= data.count else { return nil }
        var value = 0
        for index in start..<start + count {
            guard let d = digit(data[index]) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    static func number(
        _ data: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ count: Int,
        max: Int,
        _ what: String
    ) -> Failure? {
        guard let value = decimal(data, start, count), value <= max else {
            return Failure(reason: .badDate, offset: start, message: "no such \(what)")
        }
        return nil
    }

    static func date(_ data: UnsafeBufferPointer<UInt8>, yearDigits: Int, dayZeroAllowed: Bool) -> Failure? {
        guard let year = decimal(data, 0, yearDigits) else {
            return Failure(reason: .badDate, offset: 0, message: "the year is not numeric")
        }
        guard let month = decimal(data, yearDigits, 2), (1...12).contains(month) else {
            return Failure(reason: .badDate, offset: yearDigits, message: "no such month")
        }
        guard let day = decimal(data, yearDigits + 2, 2) else {
            return Failure(reason: .badDate, offset: yearDigits + 2, message: "the day is not numeric")
        }
        if day == 0 && dayZeroAllowed { return nil }  // day 00: the last day of the month
        // Two-digit years fall in 2000–2099 or 1951–1999 by the GS1 window: YY % 4 decides leap years.
        let leap = yearDigits == 2 ? year % 4 == 0 : (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        let days = ScanTime.daysIn(month: month, leap: leap)
        guard (1...days).contains(day) else {
            return Failure(reason: .badDate, offset: yearDigits + 2, message: "no such day in that month")
        }
        return nil
    }

    static func companyPrefix(_ data: UnsafeBufferPointer<UInt8>, from start: Int) -> Failure? {
        // The shortest GS1 Company Prefix has four digits.
        guard data.count >= start + 4 else {
            return Failure(reason: .badValue, offset: 0, message: "too short to start with a GS1 Company Prefix")
        }
        for index in start..<start + 4 where digit(data[index]) == nil {
            return Failure(reason: .badValue, offset: index, message: "a GS1 Company Prefix is numeric")
        }
        return nil
    }

    static func oneOf(_ data: UnsafeBufferPointer<UInt8>, _ allowed: String, _ message: String) -> Failure? {
        guard data.count == 1, allowed.utf8.contains(data[0]) else {
            return Failure(reason: .badValue, offset: 0, message: message)
        }
        return nil
    }

    static func atMost(_ data: UnsafeBufferPointer<UInt8>, _ limit: Int, _ message: String) -> Failure? {
        guard let value = decimal(data, 0, data.count), value <= limit else {
            return Failure(reason: .badValue, offset: 0, message: message)
        }
        return nil
    }

    static func country(_ data: UnsafeBufferPointer<UInt8>, allowing999: Bool) -> Failure? {
        guard data.count == 3, let code = decimal(data, 0, 3),
            ISO3166.numericCodes.contains(code) || (allowing999 && code == 999)
        else { return Failure(reason: .badValue, offset: 0, message: "not an ISO 3166 numeric country code") }
        return nil
    }

    static func alpha2Country(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        guard data.count == 2, ISO3166.isAlpha2(data[0], data[1]) else {
            return Failure(reason: .badValue, offset: 0, message: "not an ISO 3166 alpha-2 country code")
        }
        return nil
    }

    /// An IBAN (ISO 13616): an alpha-2 country, two check digits, then up to 30 letters and digits;
    /// moved and read as a number with letters as 10–35, it leaves 1 modulo 97.
    static func iban(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        guard (5...34).contains(data.count) else {
            return Failure(reason: .badValue, offset: 0, message: "an IBAN has 5 to 34 characters")
        }
        guard ISO3166.isAlpha2(data[0], data[1]) else {
            return Failure(
                reason: .badValue,
                offset: 0,
                message: "an IBAN starts with an ISO 3166 alpha-2 country code"
            )
        }
        for index in 2..<4 where digit(data[index]) == nil {
            return Failure(reason: .badValue, offset: index, message: "an IBAN's check digits are numeric")
        }
        var remainder = 0
        for step in 0..<data.count {
            let index = (step + 4) % data.count  // country and check digits go to the end
            let byte = data[index]
            if let value = digit(byte) {
                remainder = (remainder * 10 + value) % 97
            } else if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) {
                remainder = (remainder * 100 + Int(byte - UInt8(ascii: "A")) + 10) % 97
            } else {
                return Failure(reason: .badValue, offset: index, message: "an IBAN holds only A–Z and 0–9")
            }
        }
        guard remainder == 1 else {
            return Failure(reason: .badCheckDigit, offset: 2, message: "the IBAN check digits do not match")
        }
        return nil
    }

    static func pieceOfTotal(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        let half = data.count / 2
        guard data.count % 2 == 0, let piece = decimal(data, 0, half), let total = decimal(data, half, half) else {
            return Failure(reason: .badValue, offset: 0, message: "piece and total must be numeric halves")
        }
        if piece == 0 { return Failure(reason: .badValue, offset: 0, message: "the piece number must not be zero") }
        if total == 0 { return Failure(reason: .badValue, offset: half, message: "the total must not be zero") }
        if piece > total { return Failure(reason: .badValue, offset: 0, message: "the piece number exceeds the total") }
        return nil
    }

    static func positionInSequence(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        guard let slash = data.firstIndex(of: UInt8(ascii: "/")), slash > 0, slash < data.count - 1 else {
            return Failure(reason: .badValue, offset: 0, message: "expected POSITION/TOTAL")
        }
        let totalCount = data.count - slash - 1
        guard let position = decimal(data, 0, slash), data[0] != UInt8(ascii: "0") else {
            return Failure(reason: .badValue, offset: 0, message: "the position must be a number without leading zero")
        }
        guard let total = decimal(data, slash + 1, totalCount), data[slash + 1] != UInt8(ascii: "0") else {
            return Failure(
                reason: .badValue,
                offset: slash + 1,
                message: "the total must be a number without leading zero"
            )
        }
        return position <= total
            ? nil : Failure(reason: .badValue, offset: 0, message: "the position exceeds the total")
    }

    static func percentEncoding(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        var index = 0
        while index < data.count {
            if data[index] == UInt8(ascii: "%") {
                guard index + 2 < data.count, isHex(data[index + 1]), isHex(data[index + 2]) else {
                    return Failure(reason: .badValue, offset: index, message: "a % must start a %XX escape")
                }
                index += 3
            } else {
                index += 1
            }
        }
        return nil
    }

    static func isHex(_ byte: UInt8) -> Bool {
        digit(byte) != nil || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// The GS1 alphanumeric check character pair (General Specifications 7.9.5): data characters
    /// weighted by CSET 82 position and ascending primes from the right, modulo 1021, split into
    /// two CSET 32 characters.
    static func checkCharacterPair(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        guard data.count >= 2 else {
            return Failure(reason: .badCheckDigit, offset: 0, message: "too short for a check character pair")
        }
        let payload = data.count - 2
        guard payload <= primes.count else {
            return Failure(reason: .badLength, offset: 0, message: "too long for a check character pair")
        }
        var sum = 0
        for index in 0..<payload {
            guard let weight = cset82Weight[Int(data[index])] else {
                return Failure(reason: .badCharset, offset: index, message: "not a CSET 82 character")
            }
            sum += weight * primes[payload - 1 - index]
        }
        sum %= 1021
        let expected = (cset32[sum >> 5], cset32[sum & 31])
        guard data[payload] == expected.0, data[payload + 1] == expected.1 else {
            return Failure(reason: .badCheckDigit, offset: payload, message: "wrong check character pair")
        }
        return nil
    }

    static let primes: [Int] = {
        var found: [Int] = []
        var candidate = 2
        while found.count < 97 {
            if !found.contains(where: { candidate % $0 == 0 }) { found.append(candidate) }
            candidate += 1
        }
        return found
    }()

    /// CSET 82 characters in GS1 order; a character's weight is its position.
    static let cset82Weight: [Int?] = {
        var table = [Int?](repeating: nil, count: 256)
        let order = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
        for (position, byte) in order.utf8.enumerated() { table[Int(byte)] = position }
        return table
    }()

    static let cset32: [UInt8] = Array("23456789ABCDEFGHJKLMNPQRSTUVWXYZ".utf8)
}

/// Scan times on the wire: RFC 3339 (`2026-11-23T12:00:00Z`, `2026-11-23T20:00:00.250+08:00`) or
/// Unix milliseconds (`1795435200000`). Decoded to milliseconds since 1970-01-01T00:00:00Z.
public enum ScanTime {
    public static func parse(_ text: UnsafeBufferPointer<UInt8>, offset: Int) throws(CodeRejection) -> Int64 {
        var memo = DecodeMemo()
        return try parse(text, offset: offset, memo: &memo)
    }

    /// ``parse(_:offset:)`` for one time of many: `memo` skips reading a date seen just before.
    static func parse(
        _ text: UnsafeBufferPointer<UInt8>,
        offset: Int,
        memo: inout DecodeMemo
    ) throws(CodeRejection) -> Int64 {
        if let milliseconds = wholeSecondUTC(text, memo: &memo) { return milliseconds }
        func bad(_ at: Int, _ message: String) -> CodeRejection {
            CodeRejection(.badTime, at: offset + at, message)
        }
        if !text.isEmpty, text.allSatisfy({ GS1Linter.digit($0) != nil }) {
            guard text.count <= 15 else { throw bad(0, "Unix milliseconds have at most 15 digits") }
            return text.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        }
        func number(_ start: Int, _ count: Int) throws(CodeRejection) -> Int {
            guard start + count <= text.count, let value = GS1Linter.decimal(text, start, count) else {
                throw bad(min(start, text.count), "expected YYYY-MM-DDTHH:MM:SS and Z or an offset")
            }
            return value
        }
        func expect(_ index: Int, _ character: UInt8, or other: UInt8 = 0) throws(CodeRejection) {
            guard index < text.count, text[index] == character || (other != 0 && text[index] == other) else {
                throw bad(min(index, text.count), "expected YYYY-MM-DDTHH:MM:SS and Z or an offset")
            }
        }
        let year = try number(0, 4)
        try expect(4, UInt8(ascii: "-"))
        let month = try number(5, 2)
        try expect(7, UInt8(ascii: "-"))
        let day = try number(8, 2)
        try expect(10, UInt8(ascii: "T"), or: UInt8(ascii: "t"))
        let hour = try number(11, 2)
        try expect(13, UInt8(ascii: ":"))
        let minute = try number(14, 2)
        try expect(16, UInt8(ascii: ":"))
        let second = try number(17, 2)
        guard year >= 1970 else { throw bad(0, "years before 1970 are not scan times") }
        guard (1...12).contains(month) else { throw bad(5, "no such month") }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = ScanTime.daysIn(month: month, leap: leap)
        guard (1...days).contains(day) else { throw bad(8, "no such day in that month") }
        guard hour <= 23 else { throw bad(11, "no such hour") }
        guard minute <= 59 else { throw bad(14, "no such minute") }
        guard second <= 59 else { throw bad(17, "no such second") }
        var index = 19
        var milliseconds = 0
        if index < text.count, text[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < text.count, let digit = GS1Linter.digit(text[index]) {
                if index - start < 3 { milliseconds = milliseconds * 10 + digit }
                index += 1
            }
            guard index > start, index - start <= 9 else { throw bad(start, "1 to 9 fraction digits") }
            for _ in min(3, index - start)..<3 { milliseconds *= 10 }
        }
        var offsetMinutes = 0
        guard index < text.count else { throw bad(index, "the time needs Z or an offset such as +08:00") }
        switch text[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = text[index] == UInt8(ascii: "-") ? -1 : 1
            let offsetHours = try number(index + 1, 2)
            try expect(index + 3, UInt8(ascii: ":"))
            let offsetMinutesPart = try number(index + 4, 2)
            guard offsetHours <= 23, offsetMinutesPart <= 59 else { throw bad(index, "no such offset") }
            offsetMinutes = sign * (offsetHours * 60 + offsetMinutesPart)
            index += 6
        default:
            throw bad(index, "the time needs Z or an offset such as +08:00")
        }
        guard index == text.count else { throw bad(index, "unexpected characters after the time") }
        let seconds =
            Int64(daysSinceEpoch(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3_600 + minute * 60 + second - offsetMinutes * 60)
        return seconds * 1_000 + Int64(milliseconds)
    }

    /// The form gateways send most, `YYYY-MM-DDTHH:MM:SSZ`, read in one pass; `nil` sends anything
    /// else (or anything wrong) to the general parser, which also names the problem.
    @inline(__always)
    static func wholeSecondUTC(_ text: UnsafeBufferPointer<UInt8>, memo: inout DecodeMemo) -> Int64? {
        guard text.count == 20, let base = text.baseAddress, text[4] == UInt8(ascii: "-"),
            text[7] == UInt8(ascii: "-"), text[10] == UInt8(ascii: "T"), text[13] == UInt8(ascii: ":"),
            text[16] == UInt8(ascii: ":"), text[19] == UInt8(ascii: "Z")
        else { return nil }
        func two(_ at: Int) -> Int? {
            let high = text[at] &- UInt8(ascii: "0")
            let low = text[at + 1] &- UInt8(ascii: "0")
            return high <= 9 && low <= 9 ? Int(high) * 10 + Int(low) : nil
        }
        let head = UnsafeRawPointer(base).loadUnaligned(as: UInt64.self)
        let tail = UnsafeRawPointer(base + 8).loadUnaligned(as: UInt16.self)
        let days: Int
        if head == memo.dateHead && tail == memo.dateTail {
            days = memo.dateDays
        } else {
            guard let century = two(0), let yearOfCentury = two(2), let month = two(5), let day = two(8) else {
                return nil
            }
            let year = century * 100 + yearOfCentury
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            guard year >= 1970, (1...12).contains(month), day >= 1, day <= daysIn(month: month, leap: leap) else {
                return nil
            }
            days = daysSinceEpoch(year: year, month: month, day: day)
            (memo.dateHead, memo.dateTail, memo.dateDays) = (head, tail, days)
        }
        guard let hour = two(11), let minute = two(14), let second = two(17), hour <= 23, minute <= 59, second <= 59
        else { return nil }
        return (Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second)) * 1_000
    }

    /// The number of days in a month (1–12); no table, so nothing is allocated.
    @inline(__always)
    static func daysIn(month: Int, leap: Bool) -> Int {
        switch month {
        case 2: leap ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (the civil-from-days inverse).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension ScanTime {
    /// RFC 3339 in UTC with milliseconds: `2026-11-23T12:00:00.000Z`.
    public static func format(milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1_000 : (milliseconds - 999) / 1_000
        let millis = Int(milliseconds - seconds * 1_000)
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        // Civil date from days since 1970-01-01 (proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return
            "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)).\(ms)Z"
    }
}

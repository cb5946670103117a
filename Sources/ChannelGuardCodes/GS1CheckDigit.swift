/// The GS1 modulo-10 check digit used by GTIN-8/12/13/14, SSCC-18 and GLN.
///
/// Weights alternate 3 and 1 from the rightmost data digit (the digit just left of the check digit).
public enum GS1CheckDigit {
    /// The check digit for a string of data digits (without the check digit), or `nil` when a
    /// character is not an ASCII digit.
    public static func compute<S: BidirectionalCollection>(forDataDigits digits: S) -> UInt8? where S.Element == UInt8 {
        var sum = 0
        var weight = 3
        for byte in digits.reversed() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            sum += Int(byte - UInt8(ascii: "0")) * weight
            weight = weight == 3 ? 1 : 3
        }
        return UInt8((10 - sum % 10) % 10)
    }

    /// The check digit for a string of data digits, as a character value `0`–`9`.
    public static func compute(forDataDigits digits: String) -> UInt8? {
        compute(forDataDigits: Array(digits.utf8))
    }

    /// Whether the last digit of `code` is the correct check digit for the digits before it.
    public static func isValid(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        guard bytes.count >= 2, let last = bytes.last,
            last >= UInt8(ascii: "0"), last <= UInt8(ascii: "9"),
            let expected = compute(forDataDigits: bytes.dropLast())
        else { return false }
        return expected == last - UInt8(ascii: "0")
    }
}

extension GS1CheckDigit {
    /// Whether the last digit of `code` is the correct check digit for the digits before it.
    ///
    /// Counting from the right with the check digit at position 0, a valid code's digits at even
    /// positions plus three times those at odd positions sum to a multiple of ten: two sums, no
    /// weight to flip per digit and no branch per digit (a GTIN check is in every scan).
    @inline(__always)
    public static func isValid(_ code: UnsafeBufferPointer<UInt8>) -> Bool {
        guard code.count >= 2, let base = code.baseAddress else { return false }
        var even = 0
        var odd = 0
        var notDigit = false
        var index = code.count - 1
        while index >= 1 {
            let digit0 = base[index] &- UInt8(ascii: "0")
            let digit1 = base[index - 1] &- UInt8(ascii: "0")
            notDigit = notDigit || digit0 > 9 || digit1 > 9
            even &+= Int(digit0)
            odd &+= Int(digit1)
            index &-= 2
        }
        if index == 0 {
            let digit = base[0] &- UInt8(ascii: "0")
            notDigit = notDigit || digit > 9
            even &+= Int(digit)
        }
        return !notDigit && (even &+ 3 &* odd) % 10 == 0
    }
}

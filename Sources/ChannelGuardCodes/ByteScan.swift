/// Finds bytes eight at a time (SWAR: "SIMD within a register"): the decoders' searches for line
/// ends, field separators and brackets, which byte loops made a large share of line decoding.
enum ByteScan {
    /// The first index in `start..<end` holding `byte` or `other`, else `end`.
    @inline(__always)
    static func firstIndex(
        of byte: UInt8,
        or other: UInt8,
        in buffer: UnsafeBufferPointer<UInt8>,
        from start: Int,
        to end: Int
    ) -> Int {
        precondition(start >= 0 && end <= buffer.count)
        guard let base = buffer.baseAddress else { return end }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let first = ones &* UInt64(byte)
        let second = ones &* UInt64(other)
        var index = start
        while index + 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            let a = word ^ first
            let b = word ^ second
            // A zero byte in `a` or `b` marks a match; the lowest flagged byte is exact.
            let found = ((a &- ones) & ~a | (b &- ones) & ~b) & highs
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < end {
            if base[index] == byte || base[index] == other { return index }
            index += 1
        }
        return end
    }

    /// The first index in `start..<end` holding `byte`, else `end`.
    @inline(__always)
    static func firstIndex(
        of byte: UInt8,
        in buffer: UnsafeBufferPointer<UInt8>,
        from start: Int,
        to end: Int
    ) -> Int {
        firstIndex(of: byte, or: byte, in: buffer, from: start, to: end)
    }
}

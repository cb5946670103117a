import ChannelGuardCommerce
import Testing

@testable import ChannelGuardCodes

/// The word-at-a-time byte search finds exactly what a byte loop finds, for every start, end and
/// alignment, with bytes chosen to trip the bit tricks (0x00, 0x80, 0xFF, neighbours of the target).
@Suite struct ByteScanTests {
    @Test(arguments: [1, 2, 3, 4])
    func agreesWithALoop(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let alphabet: [UInt8] = [
            0x00, 0x01, 0x08, 0x09, 0x0A, 0x1F, 0x20, 0x21, 0x28, 0x7F, 0x80, 0xA0, 0xA8, 0xFF, 0x41,
        ]
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random)!
            }
            let start = Int.random(in: 0...bytes.count, using: &random)
            let end = Int.random(in: start...bytes.count, using: &random)
            let first = alphabet.randomElement(using: &random)!
            let second = alphabet.randomElement(using: &random)!
            let expected = bytes[start..<end].firstIndex { $0 == first || $0 == second } ?? end
            let found = bytes.withUnsafeBufferPointer {
                ByteScan.firstIndex(of: first, or: second, in: $0, from: start, to: end)
            }
            #expect(found == expected, "\(bytes) \(start)..<\(end) \(first) \(second)")
        }
    }

    /// The mask splitter of protocol lines finds the same fields as a plain split at spaces and
    /// tabs, for lines across the 64-byte chunk boundaries, and refuses one field too many at the
    /// same place.
    @Test(arguments: [5, 6, 7])
    func lineSplitterAgreesWithAPlainSplit(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let alphabet: [UInt8] = [0x20, 0x20, 0x09, 0x41, 0x42, 0x30, 0x0D, 0x00, 0x80, 0xFF, 0x21, 0x08, 0x29]
        let decoder = LineProtocolDecoder()
        for _ in 0..<4_000 {
            let length = [Int.random(in: 0...20, using: &random), Int.random(in: 50...200, using: &random)]
                .randomElement(using: &random)!
            let line = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
            var expected: [Range<Int>] = []
            var index = 0
            while index < line.count {
                while index < line.count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
                guard index < line.count else { break }
                let start = index
                while index < line.count, line[index] != 0x20, line[index] != 0x09 { index += 1 }
                expected.append(start..<index)
            }
            let capacity = Int.random(in: 1...24, using: &random)
            let found = line.withUnsafeBufferPointer { line in
                withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: capacity) { fields in
                    decoder.split(line, into: fields).map { Array(fields[0..<$0]) }
                }
            }
            switch found {
            case .success(let fields):
                #expect(expected.count <= capacity && fields == expected, "\(line)")
            case .failure(let rejection):
                #expect(rejection.reason == .tooManyFields)
                #expect(expected.count > capacity && rejection.offset == expected[capacity].lowerBound, "\(line)")
            }
        }
    }

    /// The one-load field-name reader agrees with the byte-by-byte path wherever it answers, and
    /// answers for the usual `name=value` fields: names with a NUL, an `=` past the field's end and
    /// fields near the end of the line included.
    @Test func quickFieldNameAgreesWithTheByteLoop() {
        var random = SplitMix64(seed: 8)
        let names = ["price", "party", "device", "seq", "lat", "lon", "pric", "lat\u{0}", "se\u{0}q", "", "pricex"]
        var answered = 0
        for _ in 0..<5_000 {
            let name = names.randomElement(using: &random)!
            let glue = ["=", "=", "", " ", "=="].randomElement(using: &random)!
            let value = String(repeating: "9", count: Int.random(in: 0...6, using: &random))
            let after = ["", " x=1", "=", " "].randomElement(using: &random)!
            let line = Array((name + glue + value + after).utf8)
            let end = line.firstIndex { $0 == 0x20 } ?? line.count
            let field = 0..<end
            let quick = line.withUnsafeBufferPointer { LineField.quickName($0, field) }
            guard let (key, equals) = quick else { continue }
            answered += 1
            let slowEquals = line[field].firstIndex(of: UInt8(ascii: "="))
            let slowKey = slowEquals.flatMap { at in
                line.withUnsafeBufferPointer { LineField(bytes: UnsafeBufferPointer(rebasing: $0[0..<at])) }
            }
            #expect(slowKey == key && slowEquals == equals, "\(line)")
        }
        #expect(answered > 1_000)
    }

    /// Checking a run of bytes against a character class (the vector form for up to 16 bytes, the
    /// table loop otherwise) agrees with the class written out character by character, for every
    /// class, range and position in the buffer.
    @Test(arguments: [9, 10])
    func characterClassesAgreeWithTheirDefinitions(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let digits = "0123456789"
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let lower = "abcdefghijklmnopqrstuvwxyz"
        let classes: [(UInt8, Set<UInt8>)] = [
            (ByteClass.numeric, Set(digits.utf8)),
            (ByteClass.cset82, Set(("!\"%&'()*+,-./" + digits + ":;<=>?" + upper + "_" + lower).utf8)),
            (ByteClass.cset39, Set(("#-/" + digits + upper).utf8)),
            (ByteClass.cset64, Set(("-" + digits + upper + "_" + lower + "=").utf8)),
            (ByteClass.party, Set((digits + upper + "-_").utf8)),
            (ByteClass.printable, Set(0x21...0x7E)),
        ]
        for _ in 0..<20_000 {
            let (member, characters) = classes.randomElement(using: &random)!
            // Mostly members, with now and then a byte from anywhere (edges of every range included).
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                Int.random(in: 0..<12, using: &random) == 0
                    ? UInt8.random(in: 0...255, using: &random) : characters.randomElement(using: &random)!
            }
            let start = Int.random(in: 0...bytes.count, using: &random)
            let end = Int.random(in: start...min(bytes.count, start + 24), using: &random)
            let expected = bytes[start..<end].allSatisfy { characters.contains($0) }
            let found = bytes.withUnsafeBufferPointer { ByteClass.all($0, start..<end, member) }
            let first = bytes.withUnsafeBufferPointer { ByteClass.firstNonMember($0, start..<end, member) }
            #expect(found == expected, "\(member) \(bytes) \(start)..<\(end)")
            #expect(first == bytes[start..<end].firstIndex { !characters.contains($0) })
        }
    }

    /// The batch's short text copy (overlapping word loads and stores) writes exactly the bytes it
    /// is given, for every length it handles, and nothing either side of them.
    @Test func shortCopiesTouchOnlyTheirBytes() {
        for count in 0...32 {
            for shift in 0..<8 {
                let source = (0..<40).map { UInt8($0 + 1) }
                var target = [UInt8](repeating: 0xEE, count: 48)
                source.withUnsafeBytes { from in
                    target.withUnsafeMutableBytes { to in
                        ScanBatch.Columns.copyShort(from.baseAddress! + shift, to.baseAddress! + 8, count)
                    }
                }
                #expect(Array(target[8..<8 + count]) == Array(source[shift..<shift + count]))
                #expect(target[0..<8].allSatisfy { $0 == 0xEE } && target[(8 + count)...].allSatisfy { $0 == 0xEE })
            }
        }
    }
}

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
}

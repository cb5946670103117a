import ChannelGuardCodes
import Crypto
import Testing

/// The prepared gateway key: the same tags as a key made for each frame, and no state carried from
/// one frame to the next.
@Suite struct FrameKeyTests {
    static let secret: [UInt8] = (0..<16).map { UInt8($0) }

    static func reference(_ bytes: [UInt8], secret: [UInt8] = secret) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: secret)))
    }

    @Test func tagsEqualAKeyMadeForEachFrameAndCarryNothingOver() {
        let key = FrameKey(secret: Self.secret)
        var generator = SystemRandomNumberGenerator()
        // Interleaved lengths, repeated messages: a tag depends on its own bytes only.
        let messages: [[UInt8]] = (0..<200).map { index in
            (0..<(index % 7 == 0 ? 0 : Int.random(in: 1...300, using: &generator))).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
        }
        for message in messages + messages.reversed() {
            let tag = message.withUnsafeBytes { Array(key.tag($0)) }
            #expect(tag == Self.reference(message))
        }
    }

    /// RFC 2104's key rules: an empty secret, one shorter than a block, exactly a block, and longer
    /// (hashed first) all give swift-crypto's tags.
    @Test(arguments: [0, 1, 32, 63, 64, 65, 200])
    func everySecretLengthGivesTheReferenceTag(length: Int) {
        let secret = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let key = FrameKey(secret: secret)
        for count in [0, 1, 55, 56, 64, 119, 120, 1000] {
            let message = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ length) }
            let tag = message.withUnsafeBytes { Array(key.tag($0)) }
            #expect(tag == Self.reference(message, secret: secret), "secret \(length) bytes, message \(count)")
        }
    }

    @Test func aChangedByteOrTagOrSecretIsRefused() {
        let key = FrameKey(secret: Self.secret)
        let message = Array("sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)A1B2".utf8)
        let tag = Self.reference(message)
        func valid(_ message: [UInt8], _ tag: [UInt8], _ key: FrameKey) -> Bool {
            message.withUnsafeBytes { bytes in tag.withUnsafeBytes { key.isValid(tag: $0, for: bytes) } }
        }
        #expect(valid(message, tag, key))
        for index in [0, message.count / 2, message.count - 1] {
            var changed = message
            changed[index] ^= 1
            #expect(!valid(changed, tag, key))
        }
        var wrongTag = tag
        wrongTag[31] ^= 0x80
        #expect(!valid(message, wrongTag, key))
        #expect(!valid(message, Array(tag.prefix(16)), key))
        #expect(!valid(message, tag, FrameKey(secret: Self.secret.reversed())))
    }
}

import Crypto

/// A gateway's HMAC-SHA256 key, prepared once: the key's inner and outer pads are hashed when the
/// key is made, so each frame pays only for hashing its own bytes.
///
/// Making the key per frame (`SymmetricKey`, then `HMAC(key:)`) cost two more SHA-256 blocks and
/// several allocations per frame: with one event per datagram it was a fifth of the network loop's
/// time. The prepared value is copied for each frame (its hash state is copy-on-write).
public struct FrameKey: @unchecked Sendable {
    // Not `Sendable` by declaration, but a value: it is only ever copied, and a copy that is
    // updated makes its own hash state first.
    private let prepared: HMAC<SHA256>

    public init(secret: [UInt8]) {
        prepared = HMAC<SHA256>(key: SymmetricKey(data: secret))
    }

    /// The tag of `bytes`.
    public func tag(_ bytes: UnsafeRawBufferPointer) -> HMAC<SHA256>.MAC {
        var mac = prepared
        mac.update(data: bytes)
        return mac.finalize()
    }

    /// Whether `tag` is the tag of `bytes` (compared in constant time).
    public func isValid(tag: UnsafeRawBufferPointer, for bytes: UnsafeRawBufferPointer) -> Bool {
        self.tag(bytes) == tag
    }
}

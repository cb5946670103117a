import CLibCrypto

/// A gateway's HMAC-SHA256 key, prepared once: the key's inner and outer pads are hashed when the
/// key is made, so each frame pays only for hashing its own bytes.
///
/// This is the one place where ChannelGuard does not use swift-crypto's HMAC. With one event per
/// datagram the tag is checked for every datagram, and swift-crypto's prepared `HMAC<SHA256>`
/// still allocated a hash context per copy, another for the outer hash, and compared through
/// generic `DataProtocol` code: 28 % of the network loop's time, against 4 % for the SHA-256 blocks
/// themselves. Here the prepared state is two plain OpenSSL `SHA256_CTX` values, copied on the
/// stack (the Decode benchmarks' "Check a one-event frame's tag" pair measures both).
public struct FrameKey: Sendable {
    private let prepared: cg_hmac_sha256_key

    /// The length of a tag in bytes.
    public static let tagBytes = 32

    public init(secret: [UInt8]) {
        var key = cg_hmac_sha256_key()
        secret.withUnsafeBytes { cg_hmac_sha256_prepare(&key, $0.baseAddress, $0.count) }
        prepared = key
    }

    /// The tag of `bytes`.
    public func tag(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.tagBytes) { out, count in
            writeTag(of: bytes, to: out.baseAddress!)
            count = Self.tagBytes
        }
    }

    /// Writes the tag of `bytes` to the 32 bytes at `out`.
    public func writeTag(of bytes: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UInt8>) {
        withUnsafePointer(to: prepared) { cg_hmac_sha256($0, bytes.baseAddress, bytes.count, out) }
    }

    /// Whether `tag` is the tag of `bytes` (compared in constant time).
    public func isValid(tag: UnsafeRawBufferPointer, for bytes: UnsafeRawBufferPointer) -> Bool {
        guard tag.count == Self.tagBytes else { return false }
        return withUnsafePointer(to: prepared) {
            cg_hmac_sha256_verify(
                $0,
                bytes.baseAddress,
                bytes.count,
                tag.assumingMemoryBound(to: UInt8.self).baseAddress
            )
                != 0
        }
    }
}

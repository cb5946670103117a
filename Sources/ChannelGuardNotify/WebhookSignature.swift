import ChannelGuardCodes
import Crypto
import Foundation

/// The signature of a generic webhook delivery, in `X-ChannelGuard-Signature: t=<unix seconds>,
/// v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the subscription's secret>`. Binding the time
/// into the signature lets a receiver refuse replays older than a tolerance.
public enum WebhookSignature {
    public static let header = "X-ChannelGuard-Signature"

    public static func sign(body: [UInt8], secret: String, timestamp: Int64) -> String {
        "t=\(timestamp),v1=" + Hex.encode(mac(body: body, secret: secret, timestamp: timestamp))
    }

    /// Checks a signature header as a receiver would: the MAC matches (compared in constant time)
    /// and the time is within `tolerance` seconds of `now`.
    public static func verify(
        header: String,
        body: [UInt8],
        secret: String,
        now: Int64,
        tolerance: Int64 = 300
    ) -> Bool {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1" { signatures.append(String(pair[1])) }
        }
        guard let timestamp, abs(now - timestamp) <= tolerance else { return false }
        let expected = Array(Hex.encode(mac(body: body, secret: secret, timestamp: timestamp)).utf8)
        return signatures.contains { candidate in
            let given = Array(candidate.utf8)
            guard given.count == expected.count else { return false }
            var difference: UInt8 = 0
            for index in given.indices { difference |= given[index] ^ expected[index] }
            return difference == 0
        }
    }

    static func mac(body: [UInt8], secret: String, timestamp: Int64) -> [UInt8] {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8))))
    }

    /// HMAC-SHA256 of `message` keyed by `key`, in base 64 (the chat robots' signatures).
    static func base64MAC(key: String, message: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(key.utf8)))
        return Data(code).base64EncodedString()
    }
}

import Synchronization

/// Requests the API refused, by error code (`channelguard_api_rejections_total` on `/metrics`).
public final class APIRejections: Sendable {
    public static let shared = APIRejections()

    private let counts = Mutex<[String: Int]>([:])

    func count(_ code: String) {
        counts.withLock { $0[code, default: 0] += 1 }
    }

    public var snapshot: [String: Int] { counts.withLock { $0 } }

    /// The counters in Prometheus text.
    public func prometheusText() -> String {
        var text = """
            # HELP channelguard_api_rejections_total API requests refused, by error code.
            # TYPE channelguard_api_rejections_total counter

            """
        for (code, count) in snapshot.sorted(by: { $0.key < $1.key }) {
            text += "channelguard_api_rejections_total{code=\"\(code)\"} \(count)\n"
        }
        return text
    }
}

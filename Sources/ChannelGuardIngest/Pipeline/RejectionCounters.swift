import ChannelGuardCodes
import Synchronization

/// Rejections counted by reason code; reasons are few, so a locked dictionary updated once per
/// frame or datagram is cheap.
public final class RejectionCounters: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    public func add(_ reason: String, _ amount: Int = 1) {
        guard amount > 0 else { return }
        counts.withLock { $0[reason, default: 0] += amount }
    }

    /// Counts every rejection of a decoded batch.
    public func add(_ rejections: [(record: Int32, rejection: CodeRejection)]) {
        guard !rejections.isEmpty else { return }
        counts.withLock { counts in
            for (_, rejection) in rejections { counts[rejection.reason.rawValue, default: 0] += 1 }
        }
    }

    public var snapshot: [String: Int] { counts.withLock { $0 } }

    public var total: Int { snapshot.values.reduce(0, +) }
}

/// A latency histogram with fixed buckets, added to from any thread without a lock (once per
/// batch, never per event), rendered as a Prometheus histogram in seconds.
public final class LatencyHistogram: Sendable {
    /// Upper bounds of the buckets by default, in milliseconds (`+Inf` follows).
    public static let boundsMilliseconds: [Double] = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1_000, 2_500, 10_000]
    /// Bounds for work that takes seconds (a rollup fold): 100 ms to 2 minutes.
    public static let longBoundsMilliseconds: [Double] = [
        100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000,
    ]

    /// This histogram's bucket bounds, in milliseconds, ascending.
    public let bounds: [Double]
    private let buckets: [Counter]
    private let total = Counter()
    private let sumNanoseconds = Counter()

    public init(boundsMilliseconds: [Double] = LatencyHistogram.boundsMilliseconds) {
        bounds = boundsMilliseconds.sorted()
        buckets = bounds.map { _ in Counter() }
    }

    /// Records one observation.
    public func record(nanoseconds: UInt64) {
        let milliseconds = Double(nanoseconds) / 1e6
        if let bucket = bounds.firstIndex(where: { milliseconds <= $0 }) {
            buckets[bucket].add(1)
        }
        total.add(1)
        sumNanoseconds.add(Int(clamping: nanoseconds))
    }

    /// Observations so far.
    public var count: Int { total.count }

    /// Observations at or below each bound (cumulative, as Prometheus wants them), then the total.
    public var cumulativeCounts: [Int] {
        var running = 0
        var counts: [Int] = []
        for bucket in buckets {
            running += bucket.count
            counts.append(running)
        }
        return counts + [count]
    }

    /// The Prometheus text of the histogram `name`, in seconds.
    public func prometheusText(name: String, help: String) -> String {
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        let counts = cumulativeCounts
        for (bound, cumulative) in zip(bounds, counts) {
            out += "\(name)_bucket{le=\"\(bound / 1000)\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(counts.last!)\n"
        out += "\(name)_sum \(Double(sumNanoseconds.count) / 1e9)\n"
        out += "\(name)_count \(counts.last!)\n"
        return out
    }
}

import Testing

@testable import ChannelGuardIngest

@Suite struct LatencyHistogramTests {
    @Test func observationsLandInTheirBucketsCumulatively() {
        let histogram = LatencyHistogram()
        // 0.5 ms, 1 ms (on the bound), 3 ms, 40 ms, 20 s (beyond every bound).
        for nanoseconds: UInt64 in [500_000, 1_000_000, 3_000_000, 40_000_000, 20_000_000_000] {
            histogram.record(nanoseconds: nanoseconds)
        }
        let counts = histogram.cumulativeCounts
        let bounds = LatencyHistogram.boundsMilliseconds
        #expect(counts.count == bounds.count + 1)
        #expect(counts[bounds.firstIndex(of: 1)!] == 2)
        #expect(counts[bounds.firstIndex(of: 2)!] == 2)
        #expect(counts[bounds.firstIndex(of: 5)!] == 3)
        #expect(counts[bounds.firstIndex(of: 50)!] == 4)
        #expect(counts[bounds.count - 1] == 4)
        #expect(counts.last == 5 && histogram.count == 5)
        #expect(counts == counts.sorted())
    }

    @Test func rendersAPrometheusHistogramInSeconds() {
        let histogram = LatencyHistogram()
        histogram.record(nanoseconds: 1_500_000)
        histogram.record(nanoseconds: 2_500_000)
        let text = histogram.prometheusText(name: "x_seconds", help: "Something timed.")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "# HELP x_seconds Something timed.")
        #expect(lines.contains("# TYPE x_seconds histogram"))
        #expect(lines.contains("x_seconds_bucket{le=\"0.001\"} 0"))
        #expect(lines.contains("x_seconds_bucket{le=\"0.002\"} 1"))
        #expect(lines.contains("x_seconds_bucket{le=\"0.005\"} 2"))
        #expect(lines.contains("x_seconds_bucket{le=\"+Inf\"} 2"))
        #expect(lines.contains("x_seconds_sum 0.004"))
        #expect(lines.contains("x_seconds_count 2"))
    }

    /// A histogram of seconds-long work (the rollup folds) has buckets up to two minutes.
    @Test func longBoundsReachMinutes() {
        let histogram = LatencyHistogram(boundsMilliseconds: LatencyHistogram.longBoundsMilliseconds)
        histogram.record(nanoseconds: 19_000_000_000)  // a 19 s fold
        histogram.record(nanoseconds: 2_300_000_000)
        let text = histogram.prometheusText(name: "fold_seconds", help: "Folds.")
        #expect(text.contains("fold_seconds_bucket{le=\"2.5\"} 1\n"))
        #expect(text.contains("fold_seconds_bucket{le=\"10.0\"} 1\n"))
        #expect(text.contains("fold_seconds_bucket{le=\"20.0\"} 2\n"))
        #expect(text.contains("fold_seconds_bucket{le=\"120.0\"} 2\n"))
        #expect(!text.contains("le=\"0.001\""))
        #expect(histogram.cumulativeCounts.count == LatencyHistogram.longBoundsMilliseconds.count + 1)
    }
}

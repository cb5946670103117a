import ChannelGuardCodes
import ChannelGuardStore
import Foundation

/// What a load run measured; `json` is the one-line summary `loadgen --json` ends with.
public struct LoadSummary: Sendable {
    public var transport: String
    public var eventsSent: Int
    public var eventsAcked: Int?
    public var eventsDurable: Int
    public var seconds: Double
    public var durableP50: Double?
    public var durableP99: Double?
    public var durableP999: Double?
    public var alertP50: Double?
    public var alertP99: Double?
    /// Scan → alert stored (its batch committed and announced with the batch id).
    public var storedAlertP99: Double?
    /// Alerts read off the live stream (`--alert-stream`), and scan → alert on the stream.
    public var streamAlerts: Int?
    public var streamAlertP50: Double?
    public var streamAlertP99: Double?
    public var diversionsInjected: Int
    public var diversionsAlerted: Int
    public var falseAlerts: Int
    /// Every false alert (up to 10,000) with its full evidence: why it is false, rule, severity,
    /// step, GTIN/serial, scan region and time, the distributor it names, gateway, batch, and the
    /// alert's stored evidence — enough to find out why without the database.
    public var falseAlertExamples: [String] = []
    /// UDP: whether runs of datagrams went to the kernel to segment (UDP GSO); `nil` over TCP.
    public var udpSegmentation: Bool?
    /// At a rate, the senders' pacing step in milliseconds (``LoadGenerator/Options/pacingStep``);
    /// `nil` as fast as possible.
    public var pacingMilliseconds: Double?
    public var machineCPUPercent: Double
    public var loadgenCPUSeconds: Double
    public var errors: [String]
    /// The same events stored one row per event (`--naive`).
    public var naive: NaiveStorage.Result?
    /// Each alerted diversion in the order sent: when it was sent (seconds into the run) and how
    /// long until its alert was announced live and stored (`nil` when not seen). Not in `json`;
    /// `loadgen --alert-log` writes it, to see when in a run the slow alerts happened.
    public var alertTimeline: [AlertTiming] = []

    /// One diversion's alert latencies (``alertTimeline``).
    public struct AlertTiming: Sendable, Equatable {
        public var sentSeconds: Double
        public var announcedMilliseconds: Double?
        public var storedMilliseconds: Double?
    }

    public var eventsPerSecond: Double { Double(eventsDurable) / seconds }
    public var lossRatio: Double { eventsSent == 0 ? 0 : max(0, 1 - Double(eventsDurable) / Double(eventsSent)) }

    static func make(
        naive: NaiveStorage.Result?,
        options: LoadGenerator.Options,
        state: LoadState,
        durable: Int,
        sendSeconds: Double,
        cpu: (machinePercent: Double, processSeconds: Double),
        notices: (batches: [Int64: UInt64], live: [String: UInt64]),
        streamed: [String: UInt64]?,
        since: String,
        database: LibPQConnection
    ) throws -> LoadSummary {
        let counts = state.snapshot
        let weighted = counts.durableLatencies.sorted { $0.nanoseconds < $1.nanoseconds }
        func percentile(_ p: Double) -> Double? {
            let total = weighted.reduce(0) { $0 + $1.events }
            guard total > 0 else { return nil }
            var seen = 0
            for sample in weighted {
                seen += sample.events
                if Double(seen) >= p * Double(total) { return Double(sample.nanoseconds) / 1e6 }
            }
            return Double(weighted.last!.nanoseconds) / 1e6
        }
        // Ground truth: every alert of the run against the diversions sent.
        let rows = try database.execute(
            """
            SELECT rule, gtin, serial, batch_id, scan_region, evidence::text, severity, step,
                   (extract(epoch FROM scanned_at) * 1000)::bigint, distributor_id, gateway_id, id
            FROM alerts
            WHERE detected_at >= $1::timestamptz AND device = 'LOADGEN' ORDER BY id
            """,
            [since]
        )
        var alerted = Set<String>()
        var falseAlerts = 0
        var falseAlertExamples: [String] = []
        func noteFalse(_ row: [String?], _ why: String) {
            falseAlerts += 1
            if falseAlertExamples.count < 10_000 {
                falseAlertExamples.append(
                    "\(why): alert \(row[11] ?? "?") \(row[0] ?? "?") \(row[6] ?? "?") \(row[7] ?? "?") "
                        + "\(row[1] ?? "-")/\(row[2] ?? "-") in \(row[4] ?? "?") at \(row[8] ?? "?") ms, "
                        + "distributor \(row[9] ?? "none"), gateway \(row[10] ?? "none"), batch \(row[3] ?? "?"), "
                        + "evidence \(row[5] ?? "{}")"
                )
            }
        }
        var alertLatencies: [Double] = []
        var storedAlertLatencies: [Double] = []
        var streamLatencies: [Double] = []
        var timeline: [AlertTiming] = []
        for row in rows {
            let key = "\(UInt64(row[1] ?? "") ?? 0)/\(row[2] ?? "")"
            guard row[0] == "out_of_territory", let sent = counts.diversionSent[key] else {
                noteFalse(row, counts.diversionSent[key] == nil ? "not a diversion" : "a diversion's second alert")
                continue
            }
            guard alerted.insert(key).inserted else {
                noteFalse(row, "a diversion alerted twice")  // one diversion, one alert
                continue
            }
            if let arrived = streamed?[key] {
                streamLatencies.append(Double(arrived &- sent) / 1e6)
            }
            var timing = AlertTiming(sentSeconds: Double(sent &- state.begin) / 1e9)
            if let announced = notices.live[key] {
                let milliseconds = Double(announced &- sent) / 1e6
                timing.announcedMilliseconds = milliseconds
                alertLatencies.append(milliseconds)
            }
            if let batch = Int64(row[3] ?? ""), let stored = notices.batches[batch] {
                let milliseconds = Double(stored &- sent) / 1e6
                timing.storedMilliseconds = milliseconds
                storedAlertLatencies.append(milliseconds)
            }
            timeline.append(timing)
        }
        timeline.sort { $0.sentSeconds < $1.sentSeconds }
        alertLatencies.sort()
        storedAlertLatencies.sort()
        streamLatencies.sort()
        func percentile(_ values: [Double], _ p: Double) -> Double? {
            values.isEmpty ? nil : values[min(values.count - 1, Int(p * Double(values.count)))]
        }
        func alertPercentile(_ p: Double) -> Double? { percentile(alertLatencies, p) }
        return LoadSummary(
            transport: options.transport.rawValue,
            eventsSent: counts.sent,
            eventsAcked: options.transport == .tcp ? counts.acked : nil,
            eventsDurable: durable,
            seconds: sendSeconds,
            durableP50: percentile(0.5),
            durableP99: percentile(0.99),
            durableP999: percentile(0.999),
            alertP50: alertPercentile(0.5),
            alertP99: alertPercentile(0.99),
            storedAlertP99: percentile(storedAlertLatencies, 0.99),
            streamAlerts: streamed == nil ? nil : streamLatencies.count,
            streamAlertP50: percentile(streamLatencies, 0.5),
            streamAlertP99: percentile(streamLatencies, 0.99),
            diversionsInjected: counts.diversionSent.count,
            diversionsAlerted: alerted.count,
            falseAlerts: falseAlerts,
            falseAlertExamples: falseAlertExamples,
            udpSegmentation: options.transport == .tcp
                ? nil : options.udpSegmentation && counts.segmentationRefused == 0,
            pacingMilliseconds: options.rate == nil ? nil : options.pacingStep / .milliseconds(1),
            machineCPUPercent: cpu.machinePercent,
            loadgenCPUSeconds: cpu.processSeconds,
            errors: counts.errors,
            naive: naive,
            alertTimeline: timeline
        )
    }

    /// ``alertTimeline`` as CSV: `sent_s,announced_ms,stored_ms`, empty where not seen.
    public var alertTimelineCSV: String {
        func field(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "" }
        var text = "sent_s,announced_ms,stored_ms\n"
        for timing in alertTimeline {
            text +=
                "\(field(timing.sentSeconds)),\(field(timing.announcedMilliseconds)),\(field(timing.storedMilliseconds))\n"
        }
        return text
    }

    public var json: String {
        func number(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "null" }
            return String(Double(Int(value * 1000)) / 1000)
        }
        var fields: [(String, String)] = [
            ("transport", JSONText.quote(transport)),
            ("events_sent", "\(eventsSent)"),
            ("events_acked", eventsAcked.map { "\($0)" } ?? "null"),
            ("events_durable", "\(eventsDurable)"),
            ("events_per_s", number(eventsPerSecond)),
            ("loss_ratio", String(lossRatio)),
            ("durable_p50_ms", number(durableP50)),
            ("durable_p99_ms", number(durableP99)),
            ("durable_p999_ms", number(durableP999)),
            ("alert_p50_ms", number(alertP50)),
            ("alert_p99_ms", number(alertP99)),
            ("alert_stored_p99_ms", number(storedAlertP99)),
            ("stream_alerts", streamAlerts.map { "\($0)" } ?? "null"),
            ("stream_alert_p50_ms", number(streamAlertP50)),
            ("stream_alert_p99_ms", number(streamAlertP99)),
            ("diversions_injected", "\(diversionsInjected)"),
            ("diversions_alerted", "\(diversionsAlerted)"),
            ("false_alerts", "\(falseAlerts)"),
            ("false_alert_examples", "[" + falseAlertExamples.map(JSONText.quote).joined(separator: ",") + "]"),
            ("udp_segmentation", udpSegmentation.map { "\($0)" } ?? "null"),
            ("pacing_ms", number(pacingMilliseconds)),
            ("seconds", number(seconds)),
            ("machine_cpu_percent", number(machineCPUPercent)),
            ("loadgen_cpu_seconds", number(loadgenCPUSeconds)),
            ("errors", "[" + errors.prefix(5).map(JSONText.quote).joined(separator: ",") + "]"),
        ]
        if let naive {
            fields += [
                ("naive_events", "\(naive.events)"),
                ("naive_events_per_s", number(Double(naive.events) / naive.seconds)),
                ("naive_bytes", "\(naive.tableBytes)"),
                ("log_bytes", "\(naive.logBytes)"),
                ("naive_to_log_bytes", number(Double(naive.tableBytes) / Double(max(1, naive.logBytes)))),
                ("log_to_naive_events_per_s", number(eventsPerSecond / (Double(naive.events) / naive.seconds))),
            ]
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}

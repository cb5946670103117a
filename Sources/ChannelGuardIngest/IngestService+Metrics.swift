import ChannelGuardDetection
import Foundation

extension IngestService {
    /// The ingest counters in the Prometheus text exposition format (version 0.0.4).
    ///
    /// Rendered from the pipeline's own atomic counters, which the per-frame path adds to once
    /// per frame or batch; a metrics library's per-call dimension lookup would sit on that path.
    public func prometheusText() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                out +=
                    sample.labels.isEmpty ? "\(name) \(sample.value)\n" : "\(name){\(sample.labels)} \(sample.value)\n"
            }
        }
        metric(
            "channelguard_received_total",
            "counter",
            "Datagrams, frames and line chunks received.",
            [
                ("transport=\"udp\"", stats.datagrams.count), ("unit=\"frame\"", stats.frames.count),
                ("unit=\"line_chunk\"", stats.lineChunks.count),
            ]
        )
        if configuration.listeners.udpPort != nil {
            metric(
                "channelguard_udp_socket_datagrams_total",
                "counter",
                "Datagrams received per UDP socket of the port (--udp-sockets), in the order bound.",
                (0..<min(max(1, configuration.listeners.udpSockets), stats.socketDatagrams.count)).map {
                    ("socket=\"\($0)\"", stats.socketDatagrams[$0].count)
                }
            )
        }
        metric(
            "channelguard_events_decoded_total",
            "counter",
            "Events accepted by the decoders.",
            [("", stats.decoded.count)]
        )
        metric(
            "channelguard_events_stored_total",
            "counter",
            "Events committed to scan_batches.",
            [("", stats.stored.count)]
        )
        metric(
            "channelguard_rejected_total",
            "counter",
            "Records, lines, frames and datagrams rejected, by reason.",
            stats.rejected.snapshot.sorted { $0.key < $1.key }.map { ("reason=\"\($0.key)\"", $0.value) }
        )
        metric(
            "channelguard_alerts_total",
            "counter",
            "Alerts raised, by rule.",
            AlertRule.allCases.map { ("rule=\"\($0.rawValue)\"", stats.alerts($0).count) }
        )
        metric(
            "channelguard_duplicate_frames_total",
            "counter",
            "Resent frames recognised and not counted again.",
            [("", stats.duplicateFrames.count)]
        )
        metric(
            "channelguard_frames_below_window_total",
            "counter",
            "Frames refused: their sequence is older than the gateway's window of recent sequences.",
            [("", stats.framesBelowWindow.count)]
        )
        metric(
            "channelguard_frames_lost_total",
            "counter",
            "Frames taken and then not stored (forgotten: their resends count).",
            [("", stats.framesLost.count)]
        )
        metric(
            "channelguard_sequence_gaps_total",
            "counter",
            "Frames whose sequence skipped ahead of the gateway's last.",
            [("", stats.sequenceGaps.count)]
        )
        metric(
            "channelguard_unknown_regions_total",
            "counter",
            "Events in a region not in the catalogue (stored, alerted as unknown_region).",
            [("", stats.unknownRegions.count)]
        )
        metric("channelguard_flushes_total", "counter", "Batches committed.", [("", stats.flushes.count)])
        metric(
            "channelguard_binding_changes_applied",
            "gauge",
            "The last binding change (binding_changes.seq) the running index reflects.",
            [("", Int(bindingsApplied))]
        )
        metric(
            "channelguard_binding_keys_applied_total",
            "counter",
            "Binding keys (serials, runs, cartons) applied to the running index by the follower.",
            [("", stats.bindingKeysApplied.count)]
        )
        metric(
            "channelguard_checkpoints_total",
            "counter",
            "Checkpoints of the index and its scan state written to the snapshot.",
            [("", stats.checkpoints.count)]
        )
        out += stats.flushDuration.prometheusText(
            name: "channelguard_flush_duration_seconds",
            help: "Encoding, compressing and committing one batch."
        )
        out += stats.alertRaise.prometheusText(
            name: "channelguard_alert_raise_seconds",
            help: "From the arrival of the frame or datagrams holding a scan to its alert being raised."
        )
        metric(
            "channelguard_rollup_folds_total",
            "counter",
            "Rollup folds that applied stored batches to scan_rollups_hourly.",
            [("", stats.rollupFolds.count)]
        )
        metric(
            "channelguard_rollup_fold_batches_total",
            "counter",
            "Batches whose rollup deltas were folded.",
            [("", stats.rollupFoldBatches.count)]
        )
        metric(
            "channelguard_rollup_fold_cells_total",
            "counter",
            "Rollup cells upserted by the folds.",
            [("", stats.rollupFoldCells.count)]
        )
        out += stats.rollupFoldDuration.prometheusText(
            name: "channelguard_rollup_fold_seconds",
            help: "One rollup fold, from reading the deltas to its commit (its pauses included)."
        )
        out += stats.alertAnnounce.prometheusText(
            name: "channelguard_alert_announce_seconds",
            help: "From an alert being raised to its NOTIFY on channelguard_alerts_live returning."
        )
        metric(
            "channelguard_alerts_announced_total",
            "counter",
            "Alerts on the live feed (channelguard_alerts_live), by outcome.",
            [
                ("outcome=\"sent\"", stats.alertsAnnounced.count),
                ("outcome=\"dropped\"", stats.alertsAnnounceDropped.count),
            ]
        )
        out += stats.batchWait.prometheusText(
            name: "channelguard_batch_wait_seconds",
            help: "From a batch's oldest event arriving to its commit (ingest to durable, inside the daemon)."
        )
        metric(
            "channelguard_batch_payload_bytes_total",
            "counter",
            "Compressed batch bytes stored.",
            [("", stats.payloadBytes.count)]
        )
        metric(
            "channelguard_batch_raw_bytes_total",
            "counter",
            "Uncompressed batch bytes.",
            [("", stats.rawBytes.count)]
        )
        metric(
            "channelguard_failed_transactions_total",
            "counter",
            "Batch transactions that failed and were retried.",
            [("", failedTransactions)]
        )
        metric("channelguard_queued_jobs", "gauge", "Batches waiting for the database.", [("", queuedJobs)])
        metric("channelguard_spool_bytes", "gauge", "Bytes of batches spooled to local disk.", [("", spoolBytes)])
        metric("channelguard_index_keys", "gauge", "Keys in the serial index.", [("", indexKeys)])
        let kernel = Self.kernelUDPErrors()
        metric(
            "channelguard_kernel_udp_errors_total",
            "counter",
            "The kernel's UDP receive errors (/proc/net/snmp), all sockets.",
            [("kind=\"receive_buffer\"", kernel.receiveBuffer), ("kind=\"in\"", kernel.inErrors)]
        )
        return out
    }

    /// `Udp: … InErrors … RcvbufErrors` from /proc/net/snmp (zeros where it cannot be read).
    public static func kernelUDPErrors() -> (inErrors: Int, receiveBuffer: Int) {
        guard let text = try? String(contentsOfFile: "/proc/net/snmp", encoding: .utf8) else { return (0, 0) }
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Udp: ") }
        guard lines.count >= 2 else { return (0, 0) }
        let names = lines[0].split(separator: " ")
        let values = lines[1].split(separator: " ")
        func value(_ name: String) -> Int {
            guard let index = names.firstIndex(where: { $0 == name }), index < values.count else { return 0 }
            return Int(values[index]) ?? 0
        }
        return (value("InErrors"), value("RcvbufErrors"))
    }
}

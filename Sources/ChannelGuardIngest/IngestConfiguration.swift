/// How the ingest daemon listens, shards, flushes and stores.
public struct IngestConfiguration: Sendable {
    /// Where and how gateways connect.
    public struct Listeners: Sendable {
        public var host = "127.0.0.1"
        /// UDP port (0 picks a free one; `nil` disables UDP).
        public var udpPort: Int? = 7700
        /// TCP port (0 picks a free one; `nil` disables TCP).
        public var tcpPort: Int? = 7700
        /// Kernel receive buffer asked for on each UDP socket (the kernel doubles it).
        public var udpReceiveBufferBytes = 64 << 20
        /// Datagrams read per `recvmmsg` call.
        public var udpVectorReads = 64
        /// The datagram size each read's buffer is sized for, `udpVectorReads` of them (9 KiB, a jumbo
        /// frame: 576 KiB a read instead of 4 MiB at UDP's 64 KiB limit).
        public var maximumDatagramBytes = 9_216
        /// Accept the unauthenticated line protocol from these IPv4 networks (CIDR, e.g.
        /// `127.0.0.0/8`); empty means binary frames only.
        public var openNetworks: [String] = []
        /// UDP sockets bound to the same port with SO_REUSEPORT, each on its own loop.
        public var udpSockets = 1

        public init() {}
    }

    /// How the pipeline batches and flushes.
    public struct Pipeline: Sendable {
        /// Shards (one per core by default).
        public var shards = System.coreCount
        /// A job is flushed when it holds this many events…
        public var maximumBatchEvents = 65_536
        /// …or when its oldest event has waited this long.
        public var flushIntervalNanoseconds: UInt64 = 100_000_000
        /// A job holding alerts is flushed as soon as the writer is idle, but not more often than this.
        public var alertFlushNanoseconds: UInt64 = 2_000_000
        /// Jobs waiting for the database, per shard, before TCP reading pauses.
        public var maximumQueuedJobs = 64
        /// How often stored rollup deltas are folded into `scan_rollups_hourly`. A fold upserts
        /// every cell touched since the last one — about 100,000 under the demo load, 1.7 s of one
        /// core on this machine kind whether they came from 5 or 30 seconds of scans — so folding
        /// less often costs the audits a little freshness and gives the scans back most of a core's
        /// fifth (docs/performance.md).
        public var rollupFoldNanoseconds: UInt64 = 30_000_000_000
        /// The share of a core's time a rollup fold may take while it runs: it pauses between pages
        /// of deltas and slices of its upsert for the rest (``RollupFolder/busyShare``). At
        /// 1 M events/s a fold's seconds of CPU then spread over about half the interval instead of
        /// stalling the scans for a few seconds. The last fold at shutdown does not pause.
        public var rollupFoldBusyShare = 0.3
        /// How often stored alerts are folded into incidents (`fold_alerts_into_incidents`).
        public var incidentFoldNanoseconds: UInt64 = 200_000_000
        /// zstd level for batch payloads.
        public var compressionLevel: Int32 = 1

        public init() {}
    }

    public var listeners = Listeners()
    public var pipeline = Pipeline()
    /// Where the serial index snapshot lives (`nil`: always rebuild).
    public var snapshotPath: String?
    /// Where each shard's spool file lives while the database cannot take batches (`nil`: batches
    /// wait in memory only).
    public var spoolDirectory: String?
    /// This node's name in `scan_batches.node`.
    public var node = "ingest"
    /// The event log's day partitions: days ahead, retention, where archived days go.
    public var partitions = PartitionKeeper.Configuration()
    /// How often the index and its scan state are checkpointed to the snapshot (with a snapshot
    /// path): a crash replays at most this much of the event log at the next start.
    public var checkpointInterval: Duration = .seconds(60)

    public init() {}
}

/// Facts about the machine.
public enum System {
    public static var coreCount: Int { max(1, sysconfCores()) }
}

#if canImport(Glibc)
import Glibc
private func sysconfCores() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#else
import Darwin
private func sysconfCores() -> Int { Int(sysconf(_SC_NPROCESSORS_ONLN)) }
#endif

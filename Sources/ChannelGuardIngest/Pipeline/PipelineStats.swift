import ChannelGuardDetection
import Synchronization

/// A counter added to from any thread.
public final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    @inline(__always)
    public func add(_ amount: Int) {
        if amount != 0 { value.add(amount, ordering: .relaxed) }
    }

    public var count: Int { value.load(ordering: .relaxed) }
}

/// Counters of the ingest path, added to per frame or batch (never per event) and read by
/// `/metrics`.
public final class PipelineStats: Sendable {
    /// Datagrams and frames received, by transport.
    public let datagrams = Counter()
    /// Datagrams received per UDP socket, in the order the sockets were bound (`--udp-sockets`,
    /// at most 64): shows how the port's datagrams are spread.
    public let socketDatagrams: [Counter] = (0..<64).map { _ in Counter() }
    public let frames = Counter()
    public let lineChunks = Counter()
    /// Events decoded (accepted by the decoders).
    public let decoded = Counter()
    /// Records and lines rejected, by reason.
    public let rejected = RejectionCounters()
    /// Events committed to the database.
    public let stored = Counter()
    /// Frames recognised as already stored (resent), not counted again.
    public let duplicateFrames = Counter()
    /// Frames refused because their sequence is older than the gateway's window (``SequenceWindow``).
    public let framesBelowWindow = Counter()
    /// Frames taken and then not stored (a batch that would not compress, an unreadable spool
    /// record): forgotten, so that their resends count.
    public let framesLost = Counter()
    /// Events whose region is not in the catalogue (stored, alerted as `unknown_region`).
    public let unknownRegions = Counter()
    /// Ship scans without a known party (stored, bind nothing).
    public let shipsWithoutParty = Counter()
    public let flushes = Counter()
    /// Binding keys the follower applied to the running index.
    public let bindingKeysApplied = Counter()
    /// Checkpoints of the index and its scan state written.
    public let checkpoints = Counter()
    public let payloadBytes = Counter()
    public let rawBytes = Counter()
    /// Per batch: encoding, compressing and committing it.
    public let flushDuration = LatencyHistogram()
    /// Per batch: from its oldest event's arrival to the commit (ingest → durable inside the
    /// daemon; a gateway's acknowledgement follows at once).
    public let batchWait = LatencyHistogram()
    /// Per part that raised alerts: from its arrival to the alerts being raised (scan → alert
    /// inside the daemon, before the announcement and the commit).
    public let alertRaise = LatencyHistogram()
    /// Per alert on the live feed: from being raised to its `NOTIFY` returning (``AlertAnnouncer``).
    public let alertAnnounce = LatencyHistogram()
    /// Alerts announced on the live feed, and dropped because the database could not be reached.
    public let alertsAnnounced = Counter()
    public let alertsAnnounceDropped = Counter()
    public let failedTransactions = Counter()
    /// Alerts by rule, in ``AlertRule/allCases`` order.
    public let alerts: [Counter] = AlertRule.allCases.map { _ in Counter() }
    /// Per-gateway sequence gaps seen (a frame whose sequence skips ahead).
    public let sequenceGaps = Counter()
    /// Rollup folds that applied batches, the batches and cells they applied, and how long each
    /// took (reading the deltas to the commit, pauses included).
    public let rollupFolds = Counter()
    public let rollupFoldBatches = Counter()
    public let rollupFoldCells = Counter()
    public let rollupFoldDuration = LatencyHistogram(boundsMilliseconds: LatencyHistogram.longBoundsMilliseconds)

    public init() {}

    public func alerts(_ rule: AlertRule) -> Counter {
        alerts[AlertRule.allCases.firstIndex(of: rule)!]
    }
}

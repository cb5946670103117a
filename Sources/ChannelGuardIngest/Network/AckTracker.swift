/// Which of a connection's frames are durable: a pure state machine, driven by the connection
/// handler and tested without I/O.
///
/// A frame is durable when every pipeline shard that received events of it has committed them.
/// Shards commit in order, so each shard's progress is one number per gateway: the highest
/// sequence of that gateway on this connection it has committed. (A connection may carry several
/// gateways' frames; their sequences are not comparable.) Acknowledgements are cumulative and go
/// out in arrival order.
public struct AckTracker: Sendable {
    struct Pending: Sendable {
        var gateway: UInt32
        var sequence: UInt64
        /// Bit s set: shard s holds events of the frame.
        var shards: UInt64
        var rejectedRecords: UInt32
    }

    private var pending: [Pending] = []
    private var head = 0
    private let shards: Int
    /// Per gateway, per shard: the highest sequence committed.
    private var committed: [UInt32: [UInt64]] = [:]

    public init(shards: Int) {
        precondition(shards > 0 && shards <= 64)
        self.shards = shards
    }

    /// Frames accepted and not yet acknowledged.
    public var outstanding: Int { pending.count - head }

    /// A frame was accepted and its events (if any) handed to `shards`. Returns an acknowledgement
    /// to send now, when nothing is outstanding before it and it needs no commit.
    public mutating func accepted(
        gateway: UInt32,
        sequence: UInt64,
        shards: UInt64,
        rejectedRecords: UInt32
    ) -> FrameAckDue? {
        pending.append(Pending(gateway: gateway, sequence: sequence, shards: shards, rejectedRecords: rejectedRecords))
        return release()
    }

    /// Shard `shard` committed this connection's frames of `gateway` through `sequence`.
    public mutating func committed(shard: Int, gateway: UInt32, through sequence: UInt64) -> FrameAckDue? {
        let shards = shards
        committed[gateway, default: Array(repeating: 0, count: shards)][shard] = max(
            committed[gateway]?[shard] ?? 0,
            sequence
        )
        return release()
    }

    /// Pops every frame at the front that is durable; the last one is the acknowledgement due.
    private mutating func release() -> FrameAckDue? {
        var due: FrameAckDue?
        while head < pending.count {
            let frame = pending[head]
            var shards = frame.shards
            var durable = true
            let progress = shards == 0 ? nil : committed[frame.gateway]
            while shards != 0 {
                let shard = shards.trailingZeroBitCount
                if (progress?[shard] ?? 0) < frame.sequence {
                    durable = false
                    break
                }
                shards &= shards - 1
            }
            guard durable else { break }
            due = FrameAckDue(sequence: frame.sequence, rejectedRecords: frame.rejectedRecords)
            head += 1
        }
        if head > 1024, head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
        return due
    }
}

/// A cumulative acknowledgement to send: every frame through `sequence` is durable.
public struct FrameAckDue: Hashable, Sendable {
    public var sequence: UInt64
    public var rejectedRecords: UInt32

    public init(sequence: UInt64, rejectedRecords: UInt32) {
        self.sequence = sequence
        self.rejectedRecords = rejectedRecords
    }
}

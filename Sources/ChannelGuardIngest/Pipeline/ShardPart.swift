import ChannelGuardCodes
import ChannelGuardIndex

/// The events of one frame or datagram that belong to one pipeline shard.
public struct ShardPart: Sendable {
    public var batch: ScanBatch
    /// The authenticated gateway (0 for open-mode line protocol).
    public var gateway: UInt32
    /// The frame sequence (0 when the source has none).
    public var sequence: UInt64
    /// The connection to acknowledge once the part is durable.
    public var ack: (any AckSink)?
    /// Monotonic nanoseconds at arrival.
    public var arrival: UInt64
    /// For a part gathering several frames (the datagrams of one UDP read): where each frame's
    /// events end, with its gateway and sequence. Empty: the whole part is one frame, described by
    /// `gateway` and `sequence`.
    public var frames: [FrameSpan] = []
    /// The events' index keys, when the router built them to pick the shard (one per event);
    /// empty: the shard builds them.
    public var keys: [IndexKey] = []

    /// The events of one frame within a part.
    public struct FrameSpan: Sendable, Hashable {
        public var gateway: UInt32
        public var sequence: UInt64
        /// The index after the frame's last event.
        public var end: Int

        public init(gateway: UInt32, sequence: UInt64, end: Int) {
            self.gateway = gateway
            self.sequence = sequence
            self.end = end
        }
    }

    public init(batch: ScanBatch, gateway: UInt32, sequence: UInt64, ack: (any AckSink)?, arrival: UInt64) {
        self.batch = batch
        self.gateway = gateway
        self.sequence = sequence
        self.ack = ack
        self.arrival = arrival
    }
}

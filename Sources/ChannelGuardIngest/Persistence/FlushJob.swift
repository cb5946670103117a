import ChannelGuardCodes

/// Where a TCP connection learns that its frames are durable.
public protocol AckSink: AnyObject, Sendable {
    /// Pipeline shard `shard` has committed every part of this connection's frames of `gateway` up
    /// to `sequence`.
    func committed(shard: Int, gateway: UInt32, through sequence: UInt64)
    /// Frames of this connection were taken and then could not be stored (a batch that would not
    /// compress, a spool record that could not be read back). They are forgotten, so their resends
    /// count as new; the connection is closed so that the gateway resends them at once.
    func lost()
}

/// A connection waiting for a job, and the gateway whose frames it waits for.
public struct AckKey: Hashable, Sendable {
    public var connection: ObjectIdentifier
    public var gateway: UInt32
}

/// A frame taken into a job: what is forgotten when the job cannot be stored.
public struct TakenFrame: Hashable, Sendable {
    public var gateway: UInt32
    public var sequence: UInt64
}

/// One rollup cell: distributor × city × GTIN × step × in/out of territory, per hour.
public struct RollupKey: Hashable, Sendable {
    public var hour: Int64
    public var distributor: Int64
    public var city: UInt32
    public var gtin: UInt64
    public var step: ScanStep
    public var inTerritory: Bool

    public init(hour: Int64, distributor: Int64, city: UInt32, gtin: UInt64, step: ScanStep, inTerritory: Bool) {
        self.hour = hour
        self.distributor = distributor
        self.city = city
        self.gtin = gtin
        self.step = step
        self.inTerritory = inTerritory
    }
}

/// What a pipeline shard hands its writer: everything one transaction stores.
public struct FlushJob: Sendable {
    public var shard: Int
    /// The events: runs of a part's events, each from one gateway.
    public var parts: [ScanLogFormat.Part] = []
    public var eventCount = 0
    public var alerts: [ScanAlert] = []
    public var rollups = RollupCells()
    /// The highest frame sequence per gateway.
    public var offsets: [UInt32: UInt64] = [:]
    /// Every frame the job took (with a sequence): forgotten if the job cannot be stored.
    public var frames: [TakenFrame] = []
    /// Connections waiting for this job, per gateway, with the highest sequence of theirs it holds.
    public var acks: [AckKey: (sink: any AckSink, sequence: UInt64)] = [:]
    public var firstScan = Int64.max
    public var lastScan = Int64.min
    /// Monotonic nanoseconds when the oldest part arrived.
    public var oldestArrival: UInt64 = 0

    public init(shard: Int) { self.shard = shard }

    public var isEmpty: Bool { eventCount == 0 && acks.isEmpty }
}

import ChannelGuardCodes
import ChannelGuardDetection
import ChannelGuardIndex

/// Decodes frames and line chunks and hands each pipeline shard the events that belong to it
/// (by the hash of the serial key). One per connection or UDP socket; not shared between threads.
public struct FrameRouter {
    /// What became of a binary frame.
    public enum FrameOutcome: Sendable {
        /// Accepted: its events went to the shards in `shards` (bit per shard).
        case accepted(gateway: UInt32, sequence: UInt64, shards: UInt64, rejectedRecords: UInt32)
        /// Rejected whole; `sequence` when the header was readable.
        case rejected(sequence: UInt64, CodeRejection)
    }

    let shards: [PipelineShard]
    let index: SerialIndex
    let reference: ReferenceDataStore
    let stats: PipelineStats
    private var frames: BinaryFrameDecoder
    let lines = LineProtocolDecoder()
    private var scratch = ScanBatch()
    /// The last sequence seen per gateway on this connection or socket (for the gap counter).
    private var lastSequence: [UInt32: UInt64] = [:]
    /// Gathered frames per shard, not yet handed over (``gather(frame:)``).
    private var pending: [ScanBatch]
    private var pendingFrames: [[ShardPart.FrameSpan]]
    private var pendingKeys: [[IndexKey]]
    private var pendingArrival: UInt64 = 0
    private var pendingEvents = 0
    /// Counts of the gathered frames, added to the shared counters once per hand-over.
    private var pendingCounts = (frames: 0, decoded: 0)
    /// The reference generation of the keys `frames` holds.
    private var keysGeneration: Int

    public init(shards: [PipelineShard], index: SerialIndex, reference: ReferenceDataStore, stats: PipelineStats) {
        self.shards = shards
        self.index = index
        self.reference = reference
        self.stats = stats
        keysGeneration = reference.generation
        frames = Self.decoder(reference.current)
        pending = Array(repeating: ScanBatch(), count: shards.count)
        pendingFrames = Array(repeating: [], count: shards.count)
        pendingKeys = Array(repeating: [], count: shards.count)
    }

    /// Decodes one whole binary frame and routes its events.
    public mutating func route(frame: UnsafeBufferPointer<UInt8>, ack: (any AckSink)?) -> FrameOutcome {
        let arrival = Monotonic.now()
        let decoded = decode(frame)
        publishCounts()
        switch decoded {
        case .failure(let rejection):
            return .rejected(sequence: frame.count >= 20 ? Self.sequence(in: frame) : 0, rejection)
        case .success(let header):
            let mask = split(gateway: header.gatewayID, sequence: header.sequence, ack: ack, arrival: arrival)
            return .accepted(
                gateway: header.gatewayID,
                sequence: header.sequence,
                shards: mask,
                rejectedRecords: UInt32(scratch.rejections.count)
            )
        }
    }

    /// Decodes one whole binary frame into the pending parts of its shards, to be handed over with
    /// the other frames of the same read by ``handOver()``: one hand-over per shard per read, not
    /// per datagram (UDP, where nothing is acknowledged).
    public mutating func gather(frame: UnsafeBufferPointer<UInt8>) {
        if pendingEvents == 0 { pendingArrival = Monotonic.now() }
        guard case .success(let header) = decode(frame), scratch.count > 0 else { return }
        var touched: UInt64 = 0
        let scratch = scratch
        Self.eachEvent(of: scratch, shards: shards.count, index: index) { event, key, shard in
            pending[shard].append(eventAt: event, of: scratch)
            pendingKeys[shard].append(key)
            touched |= 1 << UInt64(shard)
        }
        while touched != 0 {
            let shard = touched.trailingZeroBitCount
            pendingFrames[shard].append(
                ShardPart.FrameSpan(gateway: header.gatewayID, sequence: header.sequence, end: pending[shard].count)
            )
            touched &= touched - 1
        }
        pendingEvents += scratch.count
        if pendingEvents >= 16_384 { handOver() }
    }

    /// Hands each shard the frames gathered for it.
    public mutating func handOver() {
        publishCounts()
        guard pendingEvents > 0 else { return }
        for shard in 0..<shards.count where !pendingFrames[shard].isEmpty {
            var part = ShardPart(batch: pending[shard], gateway: 0, sequence: 0, ack: nil, arrival: pendingArrival)
            part.frames = pendingFrames[shard]
            part.keys = pendingKeys[shard]
            // The next read's parts start at this one's size: one allocation each, where growing
            // from empty by doubling took several, each copying what was gathered so far.
            let size = (events: part.batch.count, text: part.batch.text.count, frames: part.frames.count)
            shards[shard].enqueue(part)
            pending[shard] = ScanBatch()
            pending[shard].reserveCapacity(events: size.events, textBytes: size.text)
            pendingFrames[shard] = []
            pendingFrames[shard].reserveCapacity(size.frames)
            pendingKeys[shard] = []
            pendingKeys[shard].reserveCapacity(size.events)
        }
        pendingEvents = 0
    }

    /// Adds the frames and events decoded since the last call to the shared counters: once per
    /// frame over TCP, once per read over UDP.
    private mutating func publishCounts() {
        stats.frames.add(pendingCounts.frames)
        stats.decoded.add(pendingCounts.decoded)
        pendingCounts = (0, 0)
    }

    /// Decodes a frame into the scratch batch, counting what it rejected, and what it decoded in
    /// ``pendingCounts`` (published by ``publishCounts()``).
    private mutating func decode(_ frame: UnsafeBufferPointer<UInt8>) -> Result<BinaryFrame.Header, CodeRejection> {
        let generation = reference.generation
        if generation != keysGeneration {
            frames = Self.decoder(reference.current)
            keysGeneration = generation
        }
        scratch.removeAll()
        let result = frames.decode(frame, into: &scratch)
        pendingCounts.frames += 1
        switch result {
        case .failure(let rejection):
            stats.rejected.add(rejection.reason.rawValue)
        case .success(let header):
            stats.rejected.add(scratch.rejections)
            pendingCounts.decoded += scratch.count
            let last = lastSequence[header.gatewayID] ?? 0
            if last > 0, header.sequence > last + 1 { stats.sequenceGaps.add(1) }
            lastSequence[header.gatewayID] = max(last, header.sequence)
        }
        return result
    }

    /// Decodes whole protocol lines (an unauthenticated source, in open mode) and routes them.
    @discardableResult
    public mutating func route(lines data: UnsafeBufferPointer<UInt8>) -> Int {
        let arrival = Monotonic.now()
        stats.lineChunks.add(1)
        scratch.removeAll()
        lines.decode(data, into: &scratch)
        stats.rejected.add(scratch.rejections)
        stats.decoded.add(scratch.count)
        _ = split(gateway: 0, sequence: 0, ack: nil, arrival: arrival)
        return scratch.count
    }

    /// Hands each shard its events of the scratch batch; returns the shards that got any (none for
    /// a frame whose records were all rejected: it needs no commit, and a resend changes nothing).
    private mutating func split(gateway: UInt32, sequence: UInt64, ack: (any AckSink)?, arrival: UInt64) -> UInt64 {
        let count = shards.count
        if scratch.count == 0 { return 0 }
        if count == 1 {
            shards[0].enqueue(
                ShardPart(batch: scratch, gateway: gateway, sequence: sequence, ack: ack, arrival: arrival)
            )
            scratch = ScanBatch()
            return 1
        }
        var parts = [ScanBatch?](repeating: nil, count: count)
        var partKeys = [[IndexKey]](repeating: [], count: count)
        let scratch = scratch
        Self.eachEvent(of: scratch, shards: count, index: index) { event, key, shard in
            if parts[shard] == nil {
                var part = ScanBatch()
                part.reserveCapacity(events: scratch.count / count + 8, textBytes: 0)
                parts[shard] = part
            }
            parts[shard]!.append(eventAt: event, of: scratch)
            partKeys[shard].append(key)
        }
        var mask: UInt64 = 0
        for shard in 0..<count {
            guard let batch = parts[shard] else { continue }
            mask |= 1 << UInt64(shard)
            var part = ShardPart(batch: batch, gateway: gateway, sequence: sequence, ack: ack, arrival: arrival)
            part.keys = partKeys[shard]
            shards[shard].enqueue(part)
        }
        return mask
    }

    /// Calls `body` with each event of `batch`, its index key and its shard (the key is handed on
    /// with the event, so the shard does not build it again). Static, with the batch passed in: as
    /// a method it would copy the whole router for every frame, because `body` changes the router.
    private static func eachEvent(
        of batch: ScanBatch,
        shards: Int,
        index: SerialIndex,
        _ body: (_ event: Int, _ key: IndexKey, _ shard: Int) -> Void
    ) {
        let kinds = batch.kinds
        let numbers = batch.keys
        let serials = batch.serials
        batch.text.withUnsafeBufferPointer { text in
            for event in 0..<batch.count {
                let range = serials[event]
                let key = IndexKey(
                    decoded: kinds[event],
                    number: numbers[event],
                    serial: UnsafeBufferPointer(rebasing: text[Int(range.start)..<Int(range.end)])
                )
                body(event, key, shards == 1 ? 0 : index.shardNumber(key))
            }
        }
    }

    /// A decoder with a copy of the gateways' keys of its own (new storage, not a share of the
    /// store's table). With one event per datagram, reading the shared reference data for every
    /// datagram (a lock and a retain of the shared object) made both network loops write the same
    /// memory for every datagram; the router takes a new decoder when the reference data's
    /// generation changes.
    private static func decoder(_ data: ReferenceData) -> BinaryFrameDecoder {
        let keys = [UInt32: FrameKey](uniqueKeysWithValues: data.frameKeys.map { ($0.key, $0.value) })
        return BinaryFrameDecoder(keys: { keys[$0] })
    }

    static func sequence(in frame: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var value: UInt64 = 0
        for byte in frame[12..<20] { value = value << 8 | UInt64(byte) }
        return value
    }
}

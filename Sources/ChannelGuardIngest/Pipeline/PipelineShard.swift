import ChannelGuardCodes
import ChannelGuardDetection
import ChannelGuardIndex
import ChannelGuardTerritory
import NIOCore

/// One pipeline shard: the only owner of its slice of the serial index and of the per-serial scan
/// state in it. Every method runs on the shard's event loop, so the per-event path takes no lock;
/// other threads hand parts over with ``enqueue(_:)``.
///
/// Per part: look the serials up in one batched walk, bind ship scans, check downstream scans,
/// count rollups, collect alerts; the part joins the open ``FlushJob``. The job goes to the
/// shard's ``BatchWriter`` when it is full, when it is older than the flush interval, or — so that
/// alerts are announced within milliseconds — when it holds alerts and the writer is idle.
public final class PipelineShard: @unchecked Sendable {
    public let number: Int
    public let loop: any EventLoop
    let index: SerialIndex
    let reference: ReferenceDataStore
    let rules: ScanRules
    let stats: PipelineStats
    let configuration: IngestConfiguration.Pipeline
    var writer: BatchWriter!
    /// Where alerts are announced as they are raised (the live feed).
    var announcer: AlertAnnouncer?

    // The state below is touched only on the shard's loop, one part at a time, and no access to
    // it overlaps another (each method takes what it needs and returns). Its accesses are not
    // checked at run time: with one event a datagram, the dynamic exclusivity checks
    // (`swift_beginAccess`, mostly on these properties) were 2.2 % of the network loops' samples,
    // 0.4 % without (docs/performance.md).

    /// The frame sequences taken per gateway (stored or on their way).
    @exclusivity(unchecked) var windows: [UInt32: SequenceWindow]
    @exclusivity(unchecked) var job: FlushJob
    @exclusivity(unchecked) var lastFlush: UInt64 = 0
    @exclusivity(unchecked) private var keys: [IndexKey] = []
    @exclusivity(unchecked) private var matches: [SerialIndex.Match?] = []
    /// Where the lookup found each event's serial: recording its scan starts there.
    @exclusivity(unchecked) private var places: [SerialIndex.Place] = []
    @exclusivity(unchecked) private var findings: [ScanRules.Finding] = []
    /// The rollup cells of the events being checked, added to the job's table together.
    @exclusivity(unchecked) private var cells: [RollupKey] = []
    /// The distributor the last scan's party named (``PartyMemo``).
    @exclusivity(unchecked) private var parties = PartyMemo()
    /// Whether a scan of the part being checked has added a key to the index.
    @exclusivity(unchecked) private var boundKeys = false
    /// While the event log is replayed at start: scans change the index's state and nothing else
    /// (no alerts, rollups, counters; they were raised and stored the first time).
    @exclusivity(unchecked) private var muted = false

    init(
        number: Int,
        loop: any EventLoop,
        index: SerialIndex,
        reference: ReferenceDataStore,
        rules: ScanRules,
        stats: PipelineStats,
        configuration: IngestConfiguration.Pipeline,
        accepted: [UInt32: UInt64]
    ) {
        self.number = number
        self.loop = loop
        self.index = index
        self.reference = reference
        self.rules = rules
        self.stats = stats
        self.configuration = configuration
        windows = accepted.mapValues { SequenceWindow(top: $0) }
        job = FlushJob(shard: number)
    }

    /// Hands a part to the shard (from any thread): processed at once on the shard's own loop (a
    /// listener sharing it), else queued to that loop.
    public func enqueue(_ part: ShardPart) {
        if loop.inEventLoop {
            process(part)
        } else {
            loop.execute { self.process(part) }
        }
    }

    /// Runs `body` on the shard's loop: the way to change the shard's slice of the index.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> EventLoopFuture<T> {
        loop.submit(body)
    }

    func process(_ part: ShardPart) {
        if job.isEmpty { job.oldestArrival = part.arrival }
        noteAck(part)
        lookUp(part)
        let alertsBefore = job.alerts.count
        if part.frames.isEmpty {
            if isNew(gateway: part.gateway, sequence: part.sequence) {
                take(part.batch, gateway: part.gateway, events: 0..<part.batch.count)
            }
        } else {
            // Consecutive new frames of one gateway (the datagrams of a UDP read) are checked and
            // stored as one run: with one event per datagram, work per frame was work per event.
            var run = 0..<0
            var runGateway: UInt32 = 0
            var start = 0
            for frame in part.frames {
                let events = start..<frame.end
                start = frame.end
                guard isNew(gateway: frame.gateway, sequence: frame.sequence) else { continue }
                if !run.isEmpty, runGateway == frame.gateway, run.upperBound == events.lowerBound {
                    run = run.lowerBound..<events.upperBound
                } else {
                    if !run.isEmpty { take(part.batch, gateway: runGateway, events: run) }
                    run = events
                    runGateway = frame.gateway
                }
            }
            if !run.isEmpty { take(part.batch, gateway: runGateway, events: run) }
        }
        if job.alerts.count > alertsBefore {
            stats.alertRaise.record(nanoseconds: Monotonic.now() &- part.arrival)
            announcer?.announce(job.alerts[alertsBefore...])
        }
        if job.eventCount >= configuration.maximumBatchEvents {
            flush()
        } else if !job.alerts.isEmpty, writer.depth == 0,
            Monotonic.now() &- lastFlush >= configuration.alertFlushNanoseconds
        {
            flush()
        }
    }

    /// Looks up every event of the part in one batched walk, with the router's keys when it built
    /// them (it needed them to pick this shard).
    private func lookUp(_ part: ShardPart) {
        boundKeys = false
        guard part.keys.count == part.batch.count else {
            index.lookup(part.batch, keys: &keys, into: &matches, places: &places)
            return
        }
        keys = part.keys
        if matches.count < keys.count {
            matches.append(contentsOf: repeatElement(nil, count: keys.count - matches.count))
        }
        if places.count < keys.count {
            places.append(contentsOf: repeatElement(.none, count: keys.count - places.count))
        }
        keys.withUnsafeBufferPointer { keys in
            matches.withUnsafeMutableBufferPointer { matches in
                places.withUnsafeMutableBufferPointer { index.lookup(keys, into: matches, places: $0) }
            }
        }
    }

    /// Applies a stored batch's scans to the index's state, as when they first arrived, raising and
    /// storing nothing: the event log replayed at start, after the snapshot's position.
    func replay(_ batch: ScanBatch, gateways: [UInt32]) {
        guard batch.count > 0, gateways.count == batch.count else { return }
        muted = true
        defer {
            muted = false
            job = FlushJob(shard: number)
        }
        boundKeys = false
        index.lookup(batch, keys: &keys, into: &matches, places: &places)
        var start = 0
        while start < batch.count {
            var end = start + 1
            while end < batch.count, gateways[end] == gateways[start] { end += 1 }
            check(batch, start..<end, gateway: gateways[start])
            start = end
        }
    }

    /// Whether a frame is new, taking it if so. A frame seen before (a resend after a reconnect,
    /// stored already or on its way in an earlier job and acknowledged when that job or a later one
    /// commits; a datagram the network duplicated) is counted and its events dropped; so is one
    /// older than the gateway's window, on a count of its own. A datagram the network reordered is
    /// new once.
    private func isNew(gateway: UInt32, sequence: UInt64) -> Bool {
        guard sequence > 0, gateway != 0 else { return true }
        switch windows[gateway, default: SequenceWindow()].take(sequence) {
        case .new:
            job.offsets[gateway] = max(job.offsets[gateway] ?? 0, sequence)
            job.frames.append(TakenFrame(gateway: gateway, sequence: sequence))
            return true
        case .duplicate:
            stats.duplicateFrames.add(1)
            return false
        case .belowWindow:
            stats.framesBelowWindow.add(1)
            return false
        }
    }

    /// Frames taken into a job that could not be stored: their resends are new again (unless the
    /// window has moved past them meanwhile; those resends are refused as below the window).
    func forget(_ frames: [TakenFrame]) {
        for frame in frames { windows[frame.gateway]?.forget(frame.sequence) }
        stats.framesLost.add(frames.count)
    }

    /// Events of one gateway, new: checked and added to the open job as one run of its log.
    private func take(_ batch: ScanBatch, gateway: UInt32, events: Range<Int>) {
        check(batch, events, gateway: gateway)
        job.parts.append((batch, gateway, events))
        job.eventCount += events.count
    }

    private func noteAck(_ part: ShardPart) {
        guard let sink = part.ack else { return }
        let key = AckKey(connection: ObjectIdentifier(sink), gateway: part.gateway)
        job.acks[key] = (sink, max(job.acks[key]?.sequence ?? 0, part.sequence))
    }

    /// Binds, checks and counts the events `events` of a batch already looked up.
    ///
    /// Each scan is judged against its serial's state as the scans before it in the part left it:
    /// the lookup's answer holds only until a scan of the same serial binds or records. A
    /// downstream scan records first and is judged by the state recording returns (the state just
    /// before it); a ship or return reads the state at its place again. Once a scan of the part has
    /// added a key, the serials the lookup did not find are looked for again.
    private func check(_ batch: ScanBatch, _ events: Range<Int>, gateway: UInt32) {
        let data = reference.current
        // Columns taken once per part: each access through the batch would retain its storage.
        let times = batch.times
        let regions = batch.regions
        let steps = batch.steps
        let kinds = batch.kinds
        let numbers = batch.keys
        let prices = batch.prices
        var unknownRegions = 0
        var shipsWithoutParty = 0
        var refused = 0
        // The gateway that sent the run, and what it may send (open mode: no gateway, not checked).
        let sender = gateway == 0 ? nil : data.gateways[gateway]
        let allowed = sender?.steps ?? .all
        for event in events {
            let time = times[event]
            job.firstScan = min(job.firstScan, time)
            job.lastScan = max(job.lastScan, time)
            let region = regions[event]
            // The decoders admit region codes of valid shape only; the catalogue may still lack one.
            let regionCode = data.isKnownRegion(region) ? RegionCode(value: region) : nil
            if regionCode == nil { unknownRegions += 1 }
            let step = steps[event]
            let kind = kinds[event]
            let number = numbers[event]
            let key = keys[event]
            var scan = ScanRules.Scan(step: step, region: region, time: time, kind: kind, key: number)
            guard allowed.allows(step) else {
                // A step its kind may not send: refused, never applied.
                let match = current(event)
                if let refusal = rules.authorise(step, gateway: sender, holder: nil, reference: data) {
                    raise(refusal, scan, match, batch, event, gateway)
                }
                refused += 1
                continue
            }
            switch step {
            case .ship:
                guard let owner = party(batch, event, data) else {
                    shipsWithoutParty += 1
                    continue
                }
                let match = current(event)
                if let refusal = rules.authorise(
                    .ship,
                    gateway: sender,
                    holder: match?.binding.distributor,
                    reference: data
                ) {
                    // Not the owner's to ship: the binding stays as it is.
                    scan.party = owner
                    raise(refusal, scan, match, batch, event, gateway)
                    refused += 1
                    continue
                }
                bind(key, to: owner, time: time, match: match)
                if let regionCode {
                    count(
                        kind,
                        number,
                        regionCode,
                        time,
                        step,
                        owner,
                        data.isInside(regionCode, distributor: owner, at: time),
                        data
                    )
                } else {
                    raise(ScanRules.unknownRegion(region), scan, match, batch, event, gateway)
                }
            case .return:
                let match = current(event)
                if let match, let regionCode {
                    count(kind, number, regionCode, time, step, match.binding.distributor, true, data)
                }
                if regionCode == nil { raise(ScanRules.unknownRegion(region), scan, match, batch, event, gateway) }
            case .receive, .sell, .activate, .inspect:
                var match = matches[event]
                if match != nil || boundKeys {
                    match = try? index.record(key, at: places[event], step: step, region: region, time: time)
                }
                scan.price = prices[event]
                if step == .receive {
                    scan.party = party(batch, event, data)
                    if scan.party == nil { scan.unknownParty = partyText(batch, event) }
                }
                findings.removeAll(keepingCapacity: true)
                let inside = rules.check(scan, binding: match?.binding, reference: data, into: &findings)
                if let match, let regionCode {
                    count(kind, number, regionCode, time, step, match.binding.distributor, inside, data)
                }
                for finding in findings { raise(finding, scan, match, batch, event, gateway) }
            }
        }
        cells.withUnsafeBufferPointer { job.rollups.addOne(each: $0) }
        cells.removeAll(keepingCapacity: true)
        guard !muted else { return }
        stats.unknownRegions.add(unknownRegions)
        stats.shipsWithoutParty.add(shipsWithoutParty)
        stats.rejected.add(AlertRule.unauthorisedBinding.rawValue, refused)
    }

    /// The state of an event's serial now: what the part's lookup found, as the scans before it
    /// in the part have left it.
    @inline(__always)
    private func current(_ event: Int) -> SerialIndex.Match? {
        guard matches[event] != nil || boundKeys else { return nil }
        return index.current(keys[event], at: places[event])
    }

    /// The distributor a scan's `party` names, when it names a known one.
    private func party(_ batch: ScanBatch, _ event: Int, _ data: ReferenceData) -> Int64? {
        let range = batch.parties[event]
        guard range.end > range.start else { return nil }
        return batch.withText(range) { parties.distributor(named: $0, in: data) }
    }

    /// A scan's `party` as written, when it has one.
    private func partyText(_ batch: ScanBatch, _ event: Int) -> String? {
        let range = batch.parties[event]
        return range.end > range.start ? batch.string(range) : nil
    }

    /// A ship scan binds the unit to the consignee; a unit already bound keeps its scan state.
    private func bind(_ key: IndexKey, to owner: Int64, time: Int64, match: SerialIndex.Match?) {
        guard key.count > 0,
            let binding = try? SerialBinding(distributor: owner, shipment: SerialBinding.scanShipment, boundAt: time)
        else {
            return
        }
        if let match, match.source != .range {
            if match.binding.distributor != owner { index.rebind(key, to: binding) }
        } else {
            do {
                try index.bind(key, to: binding)
                // A key added: the lookup's misses may be found now.
                boundKeys = true
            } catch {}
        }
    }

    /// Notes the scan's rollup cell (items only: cells are per GTIN); ``check(_:_:gateway:)`` adds
    /// the cells of all its events to the job's table at the end (``RollupCells/addOne(each:)``).
    @inline(__always)
    private func count(
        _ kind: ScanBatch.KeyKind,
        _ gtin: UInt64,
        _ region: RegionCode,
        _ time: Int64,
        _ step: ScanStep,
        _ distributor: Int64,
        _ inside: Bool,
        _ data: ReferenceData
    ) {
        guard kind == .item else { return }
        var city = region.city
        if !data.isKnownRegion(city.value) { city = region.province }
        let key = RollupKey(
            hour: time / 3_600_000 * 3600,
            distributor: distributor,
            city: city.value,
            gtin: gtin,
            step: step,
            inTerritory: inside
        )
        cells.append(key)
    }

    private func raise(
        _ finding: ScanRules.Finding,
        _ scan: ScanRules.Scan,
        _ match: SerialIndex.Match?,
        _ batch: ScanBatch,
        _ event: Int,
        _ gateway: UInt32
    ) {
        guard !muted else { return }
        var alert = ScanAlert(
            rule: finding.rule,
            severity: finding.severity,
            step: scan.step,
            scannedAt: scan.time,
            key: scan.key,
            kind: scan.kind,
            serial: batch.string(batch.serials[event]),
            scanRegion: scan.region,
            price: scan.price,
            gateway: gateway,
            device: batch.string(batch.devices[event]),
            detail: finding.detail
        )
        alert.distributor = match?.binding.distributor
        alert.scanParty = scan.party
        alert.territory = finding.territory
        alert.distanceKilometres = finding.distanceKilometres
        alert.floor = finding.floor
        alert.previousRegion = finding.previousRegion
        alert.previousTime = finding.previousTime
        job.alerts.append(alert)
        stats.alerts(finding.rule).add(1)
    }

    /// Called every few milliseconds on the shard's loop.
    func tick() {
        guard !job.isEmpty else { return }
        let now = Monotonic.now()
        let age = now &- job.oldestArrival
        if age >= configuration.flushIntervalNanoseconds
            || (!job.alerts.isEmpty && writer.depth == 0 && now &- lastFlush >= configuration.alertFlushNanoseconds)
        {
            flush()
        }
    }

    /// Hands the open job to the writer.
    func flush() {
        guard !job.isEmpty else { return }
        let cells = job.rollups.count
        writer.submit(job)
        job = FlushJob(shard: number)
        // The next job will hold about as many cells: no rehashing while it fills.
        job.rollups = RollupCells(minimumCapacity: cells)
        lastFlush = Monotonic.now()
    }
}

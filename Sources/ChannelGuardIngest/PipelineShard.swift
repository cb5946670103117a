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

    /// The highest frame sequence accepted per gateway (stored or on its way).
    @exclusivity(unchecked) var accepted: [UInt32: UInt64]
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
        self.accepted = accepted
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

    /// Whether a frame is new, noting it as accepted if so. A frame seen before (resent after a
    /// reconnect: stored already, or on its way in an earlier job, and acknowledged when the job
    /// holding it, or a later one, commits) is counted and its events dropped.
    private func isNew(gateway: UInt32, sequence: UInt64) -> Bool {
        guard sequence > 0, gateway != 0 else { return true }
        guard sequence > accepted[gateway] ?? 0 else {
            stats.duplicateFrames.add(1)
            return false
        }
        accepted[gateway] = sequence
        job.offsets[gateway] = sequence
        return true
    }

    /// Events of one gateway, new: checked and added to the open job as one run of its log.
    private func take(_ batch: ScanBatch, gateway: UInt32, events: Range<Int>) {
        check(batch, events, gateway: gateway)
        job.parts.append((batch, gateway, events))
        job.eventCount += events.count
    }

    private func noteAck(_ part: ShardPart) {
        guard let sink = part.ack else { return }
        let id = ObjectIdentifier(sink)
        job.acks[id] = (sink, max(job.acks[id]?.sequence ?? 0, part.sequence))
    }

    /// Binds, checks and counts the events `events` of a batch already looked up.
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
        for event in events {
            let time = times[event]
            job.firstScan = min(job.firstScan, time)
            job.lastScan = max(job.lastScan, time)
            let region = regions[event]
            guard data.isKnownRegion(region), let regionCode = RegionCode(value: region) else {
                unknownRegions += 1
                continue
            }
            let step = steps[event]
            let kind = kinds[event]
            let number = numbers[event]
            let key = keys[event]
            let match = matches[event]
            switch step {
            case .ship:
                guard let owner = party(batch, event, data) else {
                    shipsWithoutParty += 1
                    continue
                }
                bind(key, to: owner, time: time, match: match)
                let inside = data.isInside(regionCode, distributor: owner, at: time)
                count(kind, number, regionCode, time, step, owner, inside, data)
            case .return:
                if let match { count(kind, number, regionCode, time, step, match.binding.distributor, true, data) }
            case .receive, .sell, .activate, .inspect:
                if match != nil {
                    _ = try? index.record(key, at: places[event], step: step, region: region, time: time)
                }
                let scan = ScanRules.Scan(
                    step: step,
                    region: region,
                    time: time,
                    kind: kind,
                    key: number,
                    price: prices[event],
                    party: step == .receive ? party(batch, event, data) : nil
                )
                findings.removeAll(keepingCapacity: true)
                let inside = rules.check(scan, binding: match?.binding, reference: data, into: &findings)
                if let match { count(kind, number, regionCode, time, step, match.binding.distributor, inside, data) }
                for finding in findings { raise(finding, scan, match, batch, event, gateway) }
            }
        }
        cells.withUnsafeBufferPointer { job.rollups.addOne(each: $0) }
        cells.removeAll(keepingCapacity: true)
        stats.unknownRegions.add(unknownRegions)
        stats.shipsWithoutParty.add(shipsWithoutParty)
    }

    /// The distributor a scan's `party` names, when it names a known one.
    private func party(_ batch: ScanBatch, _ event: Int, _ data: ReferenceData) -> Int64? {
        let range = batch.parties[event]
        guard range.end > range.start else { return nil }
        return batch.withText(range) { parties.distributor(named: $0, in: data) }
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
            _ = try? index.bind(key, to: binding)
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

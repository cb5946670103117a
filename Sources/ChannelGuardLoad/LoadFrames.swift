import ChannelGuardCodes

/// Frame bodies built once and signed per send (the sequence is under the tag), so the generator
/// spends its time sending, not encoding.
struct LoadFrames: Sendable {
    /// Record bytes of legitimate scans, `eventsPerFrame` each.
    let bodies: [[UInt8]]
    let eventsPerFrame: Int

    /// `runsOf`: within each group of that many frames (a UDP sender's system call), frames of one
    /// length are put next to each other, so that the kernel can segment them as one run. The mix
    /// of steps in each group stays the same.
    init(workload: LoadWorkload, eventsPerFrame: Int, frames: Int, time: Int64, runsOf group: Int = 1) throws {
        var bodies: [[UInt8]] = []
        var next = 0
        let encoder = BinaryFrameEncoder(gatewayID: 0, secret: [0])
        for _ in 0..<frames {
            var batch = ScanBatch()
            for _ in 0..<eventsPerFrame {
                let serial = workload.legitimate[next % workload.legitimate.count]
                let receive = next % 3 == 0
                var event = ScanBatch.Event(
                    step: receive ? .receive : .inspect,
                    region: serial.home,
                    time: time + Int64(next % 1000),
                    kind: .item,
                    key: serial.gtin
                )
                event.serial = serial.serial[...]
                if receive { event.party = Array(serial.owner.utf8)[...] }
                event.device = Array("LOADGEN".utf8)[...]
                batch.append(event, record: 0)
                next += 1
            }
            let frame = try encoder.encode(batch, sequence: 0)
            bodies.append(Array(frame[BinaryFrame.headerBytes..<(frame.count - BinaryFrame.tagBytes)]))
        }
        self.bodies = stride(from: 0, to: bodies.count, by: max(1, group)).flatMap { start in
            bodies[start..<min(bodies.count, start + max(1, group))].enumerated()
                .sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map(\.element)
        }
        self.eventsPerFrame = eventsPerFrame
    }

    /// A frame of one diversion: the serial inspected in a province outside its territory.
    static func diversion(
        _ serial: LoadWorkload.Serial,
        encoder: BinaryFrameEncoder,
        sequence: UInt64,
        time: Int64
    ) throws -> [UInt8] {
        var batch = ScanBatch()
        var event = ScanBatch.Event(step: .inspect, region: serial.foreign, time: time, kind: .item, key: serial.gtin)
        event.serial = serial.serial[...]
        event.device = Array("LOADGEN".utf8)[...]
        batch.append(event, record: 0)
        return try encoder.encode(batch, sequence: sequence)
    }
}

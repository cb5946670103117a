import ChannelGuardCodes
import ChannelGuardIngest
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One simulated gateway: a socket, its own sequence, and (over TCP) a reader of acknowledgements
/// that turns each into durable latencies.
struct LoadConnection {
    let options: LoadGenerator.Options
    let gateway: (id: UInt32, secret: [UInt8], nextSequence: UInt64)
    let frames: LoadFrames
    let state: LoadState
    /// Events per second for this connection; `nil`: as fast as possible.
    let rate: Int?
    let begin: UInt64
    let end: UInt64

    /// Frames sent and not yet acknowledged: sequence, send time, events.
    final class Window: Sendable {
        let pending = Mutex<[(sequence: UInt64, sent: UInt64, events: Int)]>([])
        /// Set when the sender has stopped waiting for acknowledgements.
        let done = Atomic<Bool>(false)
    }

    /// Datagrams handed to the kernel per system call (UDP).
    static let datagramsPerCall = 64

    func run() throws {
        let tcp = options.transport == .tcp
        let socket = try ClientSocket(
            host: options.host,
            port: options.port,
            transport: tcp ? .tcp : .udp,
            receiveTimeoutSeconds: 30
        )
        let encoder = BinaryFrameEncoder(gatewayID: gateway.id, secret: gateway.secret)
        let window = Window()
        var reader: Thread?
        if tcp {
            let thread = Thread { [state] in
                Self.readAcknowledgements(socket, window: window, state: state)
            }
            thread.start()
            reader = thread
        }
        var sequence = gateway.nextSequence
        var sentEvents = 0
        var frame = 0
        var packed: [UInt8] = []
        var lengths: [Int] = []
        // UDP sends up to 64 datagrams per system call; TCP one frame per write.
        let pacer = LoadPacer(
            eventsPerSecond: rate,
            eventsPerFrame: frames.eventsPerFrame,
            framesPerCall: tcp ? 1 : Self.datagramsPerCall,
            step: options.pacingStep
        )
        while true {
            let now = Monotonic.now()
            if now >= end { break }
            let budget: Int
            switch pacer.next(elapsedNanoseconds: now - begin, sentEvents: sentEvents) {
            case .wait(let microseconds):
                usleep(UInt32(microseconds))
                continue
            case .send(let count):
                budget = count
            }
            if tcp, window.pending.withLock({ $0.count }) >= options.window {
                usleep(50)
                continue
            }
            packed.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
            // Frames are signed straight into one buffer; the shared counts are touched once per
            // system call: at a few hundred thousand datagrams a second, a lock per frame shared by
            // four senders cost more than signing.
            var diversions = state.diversionsDue(
                share: options.diversionShare,
                upcoming: budget * frames.eventsPerFrame,
                most: budget
            )[...]
            var callEvents = 0
            for _ in 0..<budget {
                let start = packed.count
                let events: Int
                if let diversion = diversions.popFirst() {
                    packed += try LoadFrames.diversion(
                        diversion,
                        encoder: encoder,
                        sequence: sequence,
                        time: Monotonic.wallMilliseconds()
                    )
                    events = 1
                    state.diversionSent(diversion, at: Monotonic.now())
                } else {
                    encoder.appendSignedFrame(
                        body: frames.bodies[frame % frames.bodies.count],
                        flags: [],
                        recordCount: frames.eventsPerFrame,
                        sequence: sequence,
                        to: &packed
                    )
                    events = frames.eventsPerFrame
                    frame += 1
                }
                if tcp {
                    window.pending.withLock { $0.append((sequence, Monotonic.now(), events)) }
                    state.inFlight(1)
                    try socket.send(packed)
                    packed.removeAll(keepingCapacity: true)
                } else {
                    lengths.append(packed.count - start)
                }
                sequence += 1
                callEvents += events
            }
            if !lengths.isEmpty {
                try socket.send(packed: packed, lengths: lengths, segmenting: options.udpSegmentation)
            }
            sentEvents += callEvents
            state.sent(callEvents)
        }
        if socket.segmentationRefused { state.refusedSegmentation() }
        if let reader {
            // Wait for the acknowledgements of everything sent (bounded).
            let deadline = Monotonic.now() + 30_000_000_000
            while window.pending.withLock({ $0.count }) > 0, Monotonic.now() < deadline { usleep(1_000) }
            window.done.store(true, ordering: .relaxed)
            _ = reader
        }
    }

    static func readAcknowledgements(_ socket: ClientSocket, window: Window, state: LoadState) {
        while !window.done.load(ordering: .relaxed) {
            guard let bytes = socket.receive(exactly: FrameAcknowledgement.encodedBytes),
                let ack = bytes.withUnsafeBufferPointer({ FrameAcknowledgement(decoding: $0) })
            else { return }
            let now = Monotonic.now()
            guard ack.kind == .durable else {
                state.fail("frame \(ack.sequence) rejected, reason \(ack.reason)")
                continue
            }
            let released = window.pending.withLock { pending -> [(UInt64, UInt64, Int)] in
                let count = pending.prefix { $0.sequence <= ack.sequence }.count
                let out = Array(pending[..<count])
                pending.removeFirst(count)
                return out.map { ($0.sequence, $0.sent, $0.events) }
            }
            for (_, sent, events) in released { state.acked(events, latency: now - sent) }
            state.inFlight(-released.count)
        }
    }
}

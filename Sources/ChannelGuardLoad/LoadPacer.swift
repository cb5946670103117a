/// When one simulated gateway sends and how much: the arithmetic of a paced sender, without I/O.
///
/// At a rate, the sender owes the events due since it began and not yet sent. When it owes
/// nothing it sleeps one step, then sends what it owes, at most a system call's worth of frames
/// at a time. The step sets how often the generator wakes: each wake-up costs it a thread switch
/// and, over UDP, costs the daemon one too (its loop wakes for the datagrams of that burst). The
/// latency the generator reports starts when a frame is encoded, so a frame's wait behind the rest
/// of its burst is inside the figures.
struct LoadPacer: Sendable {
    enum Action: Equatable, Sendable {
        /// Nothing owed: sleep this long, then ask again.
        case wait(microseconds: Int)
        /// Send this many frames now.
        case send(frames: Int)
    }

    /// Events per second; `nil`: as fast as the socket takes them.
    let eventsPerSecond: Int?
    /// Events in each frame the sender builds.
    let eventsPerFrame: Int
    /// Frames handed to the kernel in one system call (UDP: a vector of datagrams; TCP: one).
    let framesPerCall: Int
    /// How long the sender sleeps when it owes nothing.
    let stepMicroseconds: Int

    init(eventsPerSecond: Int?, eventsPerFrame: Int, framesPerCall: Int, step: Duration) {
        self.eventsPerSecond = eventsPerSecond
        self.eventsPerFrame = max(1, eventsPerFrame)
        self.framesPerCall = max(1, framesPerCall)
        self.stepMicroseconds = max(1, Int((step / .microseconds(1)).rounded()))
    }

    /// What to do `elapsedNanoseconds` after the start with `sentEvents` sent so far.
    func next(elapsedNanoseconds: UInt64, sentEvents: Int) -> Action {
        guard let eventsPerSecond else { return .send(frames: framesPerCall) }
        let due = Int(Double(eventsPerSecond) * Double(elapsedNanoseconds) / 1e9)
        let owed = due - sentEvents
        guard owed > 0 else { return .wait(microseconds: stepMicroseconds) }
        // A frame is sent once any of its events is due: at most one frame ahead of the schedule.
        return .send(frames: min(framesPerCall, max(1, owed / eventsPerFrame)))
    }
}

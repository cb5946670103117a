import Testing

@testable import ChannelGuardLoad

/// The load generator's pacing, on a simulated clock: the rate is kept, the sender is never more
/// than a frame ahead of it, and it wakes about once a step.
@Suite struct LoadPacerTests {
    /// What a sender does over `seconds` of simulated time: a wait moves the clock by its length
    /// plus `oversleep` (the kernel wakes a sleeper late), a send takes no time.
    struct Run {
        var sentEvents = 0
        var wakeUps = 0
        var calls = 0
        /// The most events sent ahead of the schedule at any moment.
        var mostAhead = 0
    }

    static func simulate(_ pacer: LoadPacer, seconds: Double, oversleep: UInt64 = 60_000) -> Run {
        var run = Run()
        var clock: UInt64 = 0
        let end = UInt64(seconds * 1e9)
        while clock < end {
            switch pacer.next(elapsedNanoseconds: clock, sentEvents: run.sentEvents) {
            case .wait(let microseconds):
                clock += UInt64(microseconds) * 1_000 + oversleep
                run.wakeUps += 1
            case .send(let frames):
                run.sentEvents += frames * pacer.eventsPerFrame
                run.calls += 1
                let due = Int(Double(pacer.eventsPerSecond ?? 0) * Double(clock) / 1e9)
                run.mostAhead = max(run.mostAhead, run.sentEvents - due)
            }
        }
        return run
    }

    @Test func oneEventADatagramAtAConnectionsShareOf300000() {
        // 75,000 datagrams a second, up to 64 a system call, a step of 1 ms.
        let pacer = LoadPacer(eventsPerSecond: 75_000, eventsPerFrame: 1, framesPerCall: 64, step: .milliseconds(1))
        #expect(pacer.next(elapsedNanoseconds: 0, sentEvents: 0) == .wait(microseconds: 1_000))
        // 1.06 ms in: 79 due, sent as 64 and then the 15 left; then nothing is owed.
        #expect(pacer.next(elapsedNanoseconds: 1_060_000, sentEvents: 0) == .send(frames: 64))
        #expect(pacer.next(elapsedNanoseconds: 1_060_000, sentEvents: 64) == .send(frames: 15))
        #expect(pacer.next(elapsedNanoseconds: 1_060_000, sentEvents: 79) == .wait(microseconds: 1_000))

        let run = Self.simulate(pacer, seconds: 2)
        #expect(abs(run.sentEvents - 150_000) <= 64)
        #expect(run.mostAhead <= 0)
        // One wake-up per step and its oversleep (1.06 ms): about 943 a second.
        #expect((1_800...1_900).contains(run.wakeUps))
    }

    @Test func theStepSetsHowOftenTheSenderWakes() {
        let fine = Self.simulate(
            LoadPacer(eventsPerSecond: 75_000, eventsPerFrame: 1, framesPerCall: 64, step: .microseconds(200)),
            seconds: 1
        )
        let coarse = Self.simulate(
            LoadPacer(eventsPerSecond: 75_000, eventsPerFrame: 1, framesPerCall: 64, step: .milliseconds(1)),
            seconds: 1
        )
        // Both keep the rate; the finer step wakes about four times as often (260 µs a sleep
        // against 1,060 µs) and sends about half as many datagrams a call (20 against 40: 80 due
        // at each coarse wake-up go as 64 and 16).
        #expect(abs(fine.sentEvents - 75_000) <= 64 && abs(coarse.sentEvents - 75_000) <= 64)
        #expect(fine.wakeUps > 3 * coarse.wakeUps)
        #expect(fine.calls * 2 > coarse.calls * 3)
    }

    @Test func aFrameIsSentOnceAnyOfItsEventsIsDue() {
        // TCP: 512 events a frame, one frame a call, 500,000 events a second.
        let pacer = LoadPacer(eventsPerSecond: 500_000, eventsPerFrame: 512, framesPerCall: 1, step: .milliseconds(1))
        // 1 µs in, half an event is due: nothing yet.
        #expect(pacer.next(elapsedNanoseconds: 1_000, sentEvents: 0) == .wait(microseconds: 1_000))
        // 1 event due: a whole frame goes.
        #expect(pacer.next(elapsedNanoseconds: 2_000, sentEvents: 0) == .send(frames: 1))
        let run = Self.simulate(pacer, seconds: 1)
        #expect(abs(run.sentEvents - 500_000) <= 512)
        #expect(run.mostAhead < 512)
    }

    @Test func asFastAsItGoesSendsAWholeCallEachTime() {
        let pacer = LoadPacer(eventsPerSecond: nil, eventsPerFrame: 128, framesPerCall: 64, step: .milliseconds(1))
        #expect(pacer.next(elapsedNanoseconds: 0, sentEvents: 0) == .send(frames: 64))
        #expect(pacer.next(elapsedNanoseconds: 5_000_000_000, sentEvents: 1 << 40) == .send(frames: 64))
    }

    @Test func theStepIsKeptInMicrosecondsAndNeverZero() {
        #expect(
            LoadPacer(eventsPerSecond: 1, eventsPerFrame: 1, framesPerCall: 1, step: .microseconds(50)).stepMicroseconds
                == 50
        )
        #expect(
            LoadPacer(eventsPerSecond: 1, eventsPerFrame: 1, framesPerCall: 1, step: .seconds(1)).stepMicroseconds
                == 1_000_000
        )
        #expect(LoadPacer(eventsPerSecond: 1, eventsPerFrame: 1, framesPerCall: 1, step: .zero).stepMicroseconds == 1)
    }
}

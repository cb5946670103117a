import ChannelGuardCommerce
import ChannelGuardIngest
import Testing

/// The per-gateway window of recent frame sequences against a set of every sequence taken: the
/// same verdicts for in-order, reordered, duplicated and stale frames.
@Suite struct SequenceWindowTests {
    @Test func reorderedFramesAreTakenOnceAndResendsRecognised() {
        var window = SequenceWindow()
        #expect(window.take(1) == .new)
        #expect(window.take(3) == .new)
        #expect(window.take(2) == .new)  // reordered: arrives after 3
        #expect(window.take(2) == .duplicate)
        #expect(window.take(3) == .duplicate)
        #expect(window.take(1) == .duplicate)
        #expect(window.top == 3)
    }

    @Test func framesOlderThanTheWindowAreRefusedOnTheirOwnReason() {
        var window = SequenceWindow()
        #expect(window.take(10) == .new)
        let top = 10 + SequenceWindow.width
        #expect(window.take(top) == .new)
        #expect(window.take(10) == .belowWindow)
        #expect(window.take(11) == .new)  // the oldest sequence still inside, never seen
        #expect(window.take(top - SequenceWindow.width) == .belowWindow)
    }

    @Test func aWindowFromAStoredOffsetCountsEverythingUpToItAsSeen() {
        var window = SequenceWindow(top: 500)
        #expect(window.take(500) == .duplicate)
        #expect(window.take(499) == .duplicate)
        #expect(window.take(501) == .new)
    }

    @Test func aForgottenFrameIsNewAgain() {
        var window = SequenceWindow()
        for sequence in 1...5 { #expect(window.take(UInt64(sequence)) == .new) }
        let forgotten = (window.forget(3), window.forget(5))
        #expect(forgotten == (true, true))
        #expect(window.take(3) == .new)
        #expect(window.take(5) == .new)
        #expect(window.take(4) == .duplicate)
        _ = window.take(5 + SequenceWindow.width)
        let stale = window.forget(4)
        #expect(!stale)
    }

    /// Random arrivals (in order, reordered by up to twice the window, duplicated) against a set of
    /// what was taken: a frame is new exactly when it is inside the window and not in the set.
    @Test(arguments: [1, 2, 3]) func agreesWithASetOfEveryFrameTaken(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var window = SequenceWindow()
        var taken: Set<UInt64> = []
        var top: UInt64 = 0
        var next: UInt64 = 1
        for _ in 0..<200_000 {
            let sequence: UInt64
            switch random.next() % 10 {
            case 0: sequence = next > 1 ? next - 1 - random.next() % min(next - 1, 2 * SequenceWindow.width) : next
            case 1: sequence = next + random.next() % 64
            default: sequence = next
            }
            if sequence >= next { next = sequence + 1 }
            let expected: SequenceWindow.Verdict
            if top >= SequenceWindow.width, sequence <= top - SequenceWindow.width {
                expected = .belowWindow
            } else {
                expected = taken.contains(sequence) ? .duplicate : .new
            }
            let verdict = window.take(sequence)
            #expect(verdict == expected, "sequence \(sequence)")
            if verdict != expected { return }
            if verdict == .new {
                taken.insert(sequence)
                top = max(top, sequence)
            }
        }
    }
}

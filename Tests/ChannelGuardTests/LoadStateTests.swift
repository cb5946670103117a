import ChannelGuardIngest
import Testing

@testable import ChannelGuardLoad

/// The load generator's diversions: at most the share asked for, and spread over the whole run when
/// the pool of diverted serials would not last it.
@Suite struct LoadStateTests {
    static let pool = (0..<10).map {
        LoadWorkload.Serial(gtin: 6_901_234_567_892, serial: Array("D\($0)".utf8), owner: "X", home: 0, foreign: 0)
    }

    static func due(_ state: LoadState, share: Double, events: Int) -> Int {
        var injected = 0
        for _ in 0..<events {
            state.sent(1)
            injected += state.diversionsDue(share: share, upcoming: 1, most: 1).count
        }
        return injected
    }

    @Test func theShareLimitsWhenThePoolLastsTheRun() {
        // A run that has already ended: only the share counts.
        let state = LoadState(diversions: Self.pool, begin: 1, end: 2)
        #expect(Self.due(state, share: 0.01, events: 500) == 5)
        #expect(Self.due(state, share: 0.01, events: 2_000) == 5)  // the pool of 10 is used up
    }

    @Test func aSystemCallsWorthComesAtOnceUpToItsFrames() {
        let state = LoadState(diversions: Self.pool, begin: 1, end: 2)
        state.sent(100)
        // 100 sent and 300 about to be: 4 due at 1 %, but a call of 3 frames carries 3.
        #expect(state.diversionsDue(share: 0.01, upcoming: 300, most: 3).count == 3)
        #expect(state.diversionsDue(share: 0.01, upcoming: 300, most: 3).count == 1)
        #expect(state.diversionsDue(share: 0.01, upcoming: 300, most: 3).isEmpty)
    }

    @Test func thePoolIsSpreadOverARunItWouldNotLast() {
        // A run of an hour that has just begun: one diversion now, the next after a tenth of it.
        let now = Monotonic.now()
        let state = LoadState(diversions: Self.pool, begin: now, end: now + 3_600_000_000_000)
        #expect(Self.due(state, share: 0.5, events: 1_000) == 1)
    }
}

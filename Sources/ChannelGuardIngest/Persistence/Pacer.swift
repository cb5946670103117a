#if canImport(Glibc)
import Glibc
#endif

/// Keeps a loop's busy time to a share of its running time: ``pause()`` sleeps for the rest of
/// the time since the last pause (at most 2 s at once), unless `hurry` says not to.
struct Pacer {
    let busyShare: Double
    let hurry: () -> Bool
    let clock: () -> UInt64
    let sleep: (UInt64) -> Void
    private var since: UInt64

    init(
        busyShare: Double,
        hurry: @escaping () -> Bool = { false },
        clock: @escaping () -> UInt64 = Monotonic.now,
        sleep: @escaping (UInt64) -> Void = { usleep(UInt32($0 / 1000)) }
    ) {
        self.busyShare = min(1, max(0.01, busyShare))
        self.hurry = hurry
        self.clock = clock
        self.sleep = sleep
        since = clock()
    }

    mutating func pause() {
        let busy = clock() &- since
        if busyShare < 1, !hurry() {
            sleep(min(UInt64(Double(busy) * (1 - busyShare) / busyShare), 2_000_000_000))
        }
        since = clock()
    }
}

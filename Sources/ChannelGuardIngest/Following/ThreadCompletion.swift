import Synchronization

/// A one-shot signal from a thread of its own to async code: the thread calls ``finish()`` when it
/// ends, and ``wait()`` suspends (never blocks a thread) until it has. For the threads that follow
/// the database (``ChangeListener``, ``AlertAnnouncer``), so that async shutdown code awaits them
/// instead of spinning or holding a cooperative thread on a semaphore.
final class ThreadCompletion: Sendable {
    private struct State {
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// The thread has ended; every waiter resumes, and later waits return at once.
    func finish() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``finish()`` has been called.
    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

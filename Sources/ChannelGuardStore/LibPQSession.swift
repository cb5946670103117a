import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection kept open for a periodic job (folding rollups, folding incidents), so each
/// run does not pay a new server process, authentication and cold catalog and plan caches — about
/// 50 ms of server CPU a connection here, several times a second. A failure drops the connection
/// and the next run opens a new one.
///
/// A *background* session runs on a thread of its own at a lower CPU priority (nice 10), and lowers
/// its server process's priority too where the operating system lets it (the embedded database on
/// the same machine, run by the same administrator): a rollup fold at 1 M events/s is seconds of
/// CPU every 30 s, and on a small machine it should yield to the scans, not stall them.
///
/// Runs are meant to come one at a time (one task calls ``run(_:)``); a run that arrives while
/// another holds the connection gets a connection of its own for that run.
public final class LibPQSession: Sendable {
    /// The nice value of a background session's thread and server process.
    public static let backgroundNice: Int32 = 10

    let url: DatabaseURL
    let background: Bool
    private let idle = Mutex<Box?>(nil)
    private let pool: NIOThreadPool?

    private final class Box: @unchecked Sendable {
        let connection: LibPQConnection
        init(_ connection: LibPQConnection) { self.connection = connection }
    }

    public init(url: DatabaseURL, background: Bool = false) {
        self.url = url
        self.background = background
        if background {
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            self.pool = pool
        } else {
            pool = nil
        }
    }

    /// Runs `body` with the session's connection (opened when needed).
    @discardableResult
    public func run<T: Sendable>(_ body: @escaping @Sendable (LibPQConnection) throws -> T) async throws -> T {
        let url = url
        let background = background
        return try await (pool ?? .singleton).runIfActive { [self] in
            if background { Self.lowerPriority(of: 0) }  // this thread
            let box = try idle.withLock { $0.take() } ?? Self.open(url, background: background)
            let result = try body(box.connection)
            idle.withLock { $0 = box }
            return result
        }
    }

    /// Stops a background session's thread (the connection closes with the session).
    public func close() async {
        try? await pool?.shutdownGracefully()
    }

    private static func open(_ url: DatabaseURL, background: Bool) throws -> Box {
        let connection = try LibPQConnection(url: url)
        if background,
            let pid = Int32(try connection.execute("SELECT pg_backend_pid()").first?.first.flatMap { $0 } ?? "")
        {
            lowerPriority(of: pid)
        }
        return Box(connection)
    }

    /// Sets the nice value of a thread or process (0: the calling thread) to ``backgroundNice``;
    /// silently leaves it when not permitted (another user's process, a remote server).
    static func lowerPriority(of id: Int32) {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(id), backgroundNice)
        #endif
    }
}

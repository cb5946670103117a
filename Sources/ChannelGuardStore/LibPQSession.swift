import NIOPosix
import Synchronization

/// One libpq connection kept open for a periodic job (folding rollups, folding incidents), so each
/// run does not pay a new server process, authentication and cold catalog and plan caches — about
/// 50 ms of server CPU a connection here, several times a second. The work runs on NIO's shared
/// thread pool; a failure drops the connection and the next run opens a new one.
///
/// Runs are meant to come one at a time (one task calls ``run(_:)``); a run that arrives while
/// another holds the connection gets a connection of its own for that run.
public final class LibPQSession: Sendable {
    let url: DatabaseURL
    private let idle = Mutex<Box?>(nil)

    private final class Box: @unchecked Sendable {
        let connection: LibPQConnection
        init(_ connection: LibPQConnection) { self.connection = connection }
    }

    public init(url: DatabaseURL) {
        self.url = url
    }

    /// Runs `body` with the session's connection (opened when needed).
    @discardableResult
    public func run<T: Sendable>(_ body: @escaping @Sendable (LibPQConnection) throws -> T) async throws -> T {
        let url = url
        return try await NIOThreadPool.singleton.runIfActive { [self] in
            let box = try idle.withLock { $0.take() } ?? Box(LibPQConnection(url: url))
            let result = try body(box.connection)
            idle.withLock { $0 = box }
            return result
        }
    }
}

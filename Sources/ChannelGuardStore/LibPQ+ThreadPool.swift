import NIOPosix

/// Runs blocking libpq work on NIO's shared thread pool, off Swift's cooperative executor.
@discardableResult
public func withLibPQ<T: Sendable>(
    _ url: DatabaseURL,
    _ body: @escaping @Sendable (LibPQConnection) throws -> T
) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive {
        try body(try LibPQConnection(url: url))
    }
}

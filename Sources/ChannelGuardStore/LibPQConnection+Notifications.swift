import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

extension LibPQConnection {
    /// A notification received on a channel this connection listens to.
    public struct Notification: Sendable, Hashable {
        public var channel: String
        public var payload: String
    }

    /// Starts listening on `channel` (`LISTEN`).
    public func listen(_ channel: String) throws(StoreError) {
        try execute("LISTEN \(quoteIdentifier(channel))")
    }

    /// Waits up to `timeoutMilliseconds` for notifications and returns those that arrived (none on
    /// timeout). Throws when the connection is lost.
    public func notifications(timeoutMilliseconds: Int32) throws(StoreError) -> [Notification] {
        var received = drainNotifications()
        if !received.isEmpty { return received }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else { throw StoreError(.connectionFailed, "the connection has no socket") }
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready > 0 {
            guard PQconsumeInput(connection) == 1 else {
                throw StoreError(
                    .connectionFailed,
                    "lost the connection while listening: \(String(cString: PQerrorMessage(connection)))"
                )
            }
            received = drainNotifications()
        }
        return received
    }

    private func drainNotifications() -> [Notification] {
        var received: [Notification] = []
        while let notification = PQnotifies(connection) {
            received.append(
                Notification(
                    channel: String(cString: notification.pointee.relname),
                    payload: String(cString: notification.pointee.extra)
                )
            )
            PQfreemem(notification)
        }
        return received
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a ChannelGuard data directory, held by the `serve` process that owns it.
///
/// An advisory `flock` on `channelguard.lock`, which the kernel releases when the process exits in
/// any way (SIGKILL included), so a crashed instance never leaves a stale lock behind.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock or throws ``StoreError/Code/dataDirectoryLocked`` naming the holder's PID.
    public init(dataDirectory: URL) throws(StoreError) {
        let path = dataDirectory.appendingPathComponent("channelguard.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(
                .dataDirectoryOwnedByOtherUser,
                "Cannot open \(path): \(String(cString: strerror(errno))).",
                fix: "Run ChannelGuard as the user that owns \(dataDirectory.path), or choose another --data-dir."
            )
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, 31, 0)
            close(fd)
            let holder =
                count > 0
                ? String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                : "unknown"
            throw StoreError(
                .dataDirectoryLocked,
                "The data directory \(dataDirectory.path) is in use by another running ChannelGuard (pid \(holder)).",
                fix: "Stop that instance (kill -TERM \(holder)), or give this one its own --data-dir. "
                    + "Other commands (db url, migrate, demo-data) can run beside it."
            )
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, text, text.count, 0)
        self.descriptor = fd
        self.path = path
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

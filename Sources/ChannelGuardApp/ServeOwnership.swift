import ChannelGuardStore
import Foundation

/// Records that `serve` started the embedded database, so that a `serve` restarted after a crash
/// (SIGKILL, power loss) takes the still-running cluster back and stops it on shutdown, while a
/// cluster started with `channelguard db start` is left running.
enum ServeOwnership {
    static func markerURL(_ postgres: EmbeddedPostgres) -> URL {
        postgres.dataDirectory.appendingPathComponent("serve-started-database")
    }

    static func isMarked(_ postgres: EmbeddedPostgres) -> Bool {
        FileManager.default.fileExists(atPath: markerURL(postgres).path)
    }

    static func mark(_ postgres: EmbeddedPostgres) throws {
        try Data("\(ProcessInfo.processInfo.processIdentifier)\n".utf8).write(to: markerURL(postgres))
    }

    static func clear(_ postgres: EmbeddedPostgres) {
        try? FileManager.default.removeItem(at: markerURL(postgres))
    }
}

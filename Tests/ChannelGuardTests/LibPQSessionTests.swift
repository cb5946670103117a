import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The connection a periodic job keeps: one server process for every run, and a new one after the
/// old one is lost.
@Suite(.database) struct LibPQSessionTests {
    static func backend(_ session: LibPQSession) async throws -> Int {
        try await session.run { Int(try $0.execute("SELECT pg_backend_pid()")[0][0] ?? "") ?? 0 }
    }

    @Test func runsShareOneConnectionAndReconnectAfterItIsLost() async throws {
        let database = try TestDatabase.require()
        let session = LibPQSession(url: database.url)
        let first = try await Self.backend(session)
        #expect(first > 0)
        for _ in 0..<5 { #expect(try await Self.backend(session) == first) }

        // The server ends that process: the run that finds out fails, the next one reconnects.
        let admin = try database.connect()
        try admin.execute("SELECT pg_terminate_backend(\(first))")
        try await Task.sleep(for: .milliseconds(200))
        await #expect(throws: (any Error).self) { try await Self.backend(session) }
        let second = try await Self.backend(session)
        #expect(second > 0 && second != first)
        #expect(try await Self.backend(session) == second)
    }

    @Test func aFailedRunDropsItsConnection() async throws {
        let session = LibPQSession(url: try TestDatabase.require().url)
        let first = try await Self.backend(session)
        // A failing statement may leave the connection mid-transaction: it is not reused.
        await #expect(throws: (any Error).self) {
            try await session.run { connection in
                try connection.execute("BEGIN")
                try connection.execute("SELECT no_such_function()")
            }
        }
        let second = try await Self.backend(session)
        #expect(second != first)
        #expect(try await session.run { try $0.execute("SELECT 1")[0][0] } == "1")
    }

    /// A background session yields: its thread and (where permitted) its server process run at a
    /// lower priority; an ordinary session's thread is left alone.
    @Test func aBackgroundSessionRunsAtALowerPriority() async throws {
        let url = try TestDatabase.require().url
        let background = LibPQSession(url: url, background: true)
        let (threadNice, pid) = try await background.run { connection in
            (
                getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0),
                Int(try connection.execute("SELECT pg_backend_pid()")[0][0] ?? "") ?? 0
            )
        }
        #expect(threadNice == LibPQSession.backgroundNice)
        // The server process: lowered when this process may (root, or the same user).
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ") ")!.upperBound...].split(separator: " ")
        let serverNice = Int32(fields[16]) ?? 0  // field 19 of stat; the first two precede ")"
        if geteuid() == 0 { #expect(serverNice == LibPQSession.backgroundNice) }
        await background.close()

        let ordinary = LibPQSession(url: url)
        let ordinaryNice = try await ordinary.run { _ in getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
        #expect(ordinaryNice != LibPQSession.backgroundNice)
    }
}

import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct EmbeddedPostgresTests {
    /// A data directory of its own under the test root, removed afterwards.
    func withDataDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = TestCluster.root.appendingPathComponent("embedded-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    func expectStoreError(
        _ code: StoreError.Code,
        _ body: () throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> StoreError? {
        let error = #expect(throws: StoreError.self, "expected \(code)", sourceLocation: sourceLocation) { try body() }
        if let error {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.fix != nil, "every user-facing error names a fix", sourceLocation: sourceLocation)
        }
        return error
    }

    @Test func clusterKeepsItsDataAcrossStopAndStart() async throws {
        try await withDataDirectory { directory in
            let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: directory, durability: .durable))
            let first = try postgres.start()
            #expect(first.startedHere)
            defer { try? postgres.stop() }
            try LibPQConnection(url: first.url).execute(
                "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('survives a restart')"
            )

            // A second start while running reuses the server.
            let again = try postgres.start()
            #expect(!again.startedHere)
            #expect(again.status == first.status)

            try postgres.stop()
            #expect(postgres.status() == nil)
            #expect(throws: StoreError.self) { _ = try LibPQConnection(url: first.url) }

            let second = try postgres.start()
            #expect(second.startedHere)
            #expect(second.status.port == first.status.port, "the previous port is reused while free")
            let rows = try LibPQConnection(url: second.url).execute("SELECT note FROM kept")
            #expect(rows == [["survives a restart"]])
            // Durable settings, not the test ones.
            #expect(try LibPQConnection(url: second.url).execute("SHOW fsync")[0][0] == "on")
        }
    }

    @Test func missingBinariesNameThePackage() async throws {
        try await withDataDirectory { directory in
            let postgres = EmbeddedPostgres(
                configuration: .init(dataDirectory: directory, binarySearchPath: ["/nonexistent/bin"])
            )
            let error = expectStoreError(.binariesNotFound) { _ = try postgres.start() }
            #expect(error?.fix?.contains("apt-get install -y postgresql") == true)
        }
    }

    @Test func portInUseIsReportedWithTheFix() async throws {
        let busy = try LoopbackListener()
        let busyPort = busy.port
        #expect(!LoopbackPort.isFree(busyPort))

        try await withDataDirectory { directory in
            let postgres = EmbeddedPostgres(
                configuration: .init(dataDirectory: directory, port: busyPort, durability: .throwaway)
            )
            let error = expectStoreError(.portInUse) { _ = try postgres.start() }
            #expect(error?.message.contains(String(busyPort)) == true)
            #expect(postgres.status() == nil)
        }
        withExtendedLifetime(busy) {}
    }

    @Test func secondServeOnTheSameDirectoryIsRefused() async throws {
        try await withDataDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            do {
                let lock = try DataDirectoryLock(dataDirectory: directory)
                let error = expectStoreError(.dataDirectoryLocked) {
                    _ = try DataDirectoryLock(dataDirectory: directory)
                }
                #expect(error?.message.contains("pid \(getpid())") == true)
                withExtendedLifetime(lock) {}
            }
            // Released with its holder: the next one gets it.
            _ = try DataDirectoryLock(dataDirectory: directory)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to hand a directory to another user"))
    func clusterOwnedBySomeoneElseIsRefused() async throws {
        try await withDataDirectory { directory in
            let cluster = directory.appendingPathComponent("pgdata")
            try FileManager.default.createDirectory(at: cluster, withIntermediateDirectories: true)
            let nobody = try #require(getpwnam("nobody"))
            #expect(chown(cluster.path, nobody.pointee.pw_uid, nobody.pointee.pw_gid) == 0)
            let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: directory, durability: .throwaway))
            let error = expectStoreError(.dataDirectoryOwnedByOtherUser) { _ = try postgres.start() }
            #expect(error?.message.contains("nobody") == true)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "only root hands the server to another user"))
    func directoryTheServerUserCannotReachIsRefused() async throws {
        try await withDataDirectory { directory in
            // Like a checkout under /root: a 0700 directory owned by root.
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            chmod(directory.path, 0o700)
            let postgres = EmbeddedPostgres(
                configuration: .init(dataDirectory: directory.appendingPathComponent("inner"), durability: .throwaway)
            )
            let error = expectStoreError(.dataDirectoryUnreachable) { _ = try postgres.start() }
            #expect(error?.message.contains(directory.path) == true)
            #expect(error?.fix?.contains("--data-dir") == true)
        }
    }

    @Test func urlRequiresARunningCluster() async throws {
        try await withDataDirectory { directory in
            let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: directory))
            _ = expectStoreError(.notRunning) { _ = try postgres.url() }
        }
    }
}

@Suite struct DatabaseURLTests {
    @Test func parsesAndPrintsBack() throws {
        let url = try DatabaseURL(parsing: "postgresql://cg:s%40cret@127.0.0.1:5433/channelguard")
        #expect(url.user == "cg" && url.password == "s@cret" && url.host == "127.0.0.1" && url.port == 5433)
        #expect(url.database == "channelguard")
        #expect(try DatabaseURL(parsing: url.urlString) == url)
        #expect(!url.description.contains("s@cret") && !url.description.contains("s%40cret"))
        let socket = try DatabaseURL(parsing: "postgres://cg@/db?host=/tmp/run&port=6000")
        #expect(socket.host == nil && socket.socketDirectory == "/tmp/run" && socket.port == 6000)
        #expect(try DatabaseURL(parsing: socket.urlString) == socket)
    }

    @Test(arguments: [
        "mysql://u@localhost/db",
        "postgresql://localhost/db",
        "postgresql://u@localhost",
        "postgresql://u@localhost:99999/db",
        "postgresql://u@localhost/db?application=x",
        "postgresql://u@/db",
        "not a url at all",
    ])
    func badURLsAreRejectedWithTheExpectedForm(text: String) {
        let error = #expect(throws: StoreError.self, "accepted \(text)") { _ = try DatabaseURL(parsing: text) }
        #expect(error?.code == .badDatabaseURL)
        #expect(error?.fix?.contains("postgresql://USER:PASSWORD@HOST:PORT/DATABASE") == true)
    }
}

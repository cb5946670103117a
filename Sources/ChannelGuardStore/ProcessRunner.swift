import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a helper program (initdb, pg_ctl) to completion, optionally as another user through
/// `runuser`, capturing its output.
///
/// Started through ``Spawn`` and reaped with `waitpid` (see there why not Foundation's `Process`).
struct ProcessRunner: Sendable {
    struct Result: Sendable {
        var status: Int32
        var output: String
        var succeeded: Bool { status == 0 }
    }

    /// Run the program as this user (through `runuser -u USER --`); `nil` runs as ourselves.
    var user: String?

    func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let argv: [String] =
            user.map { [Self.runuserPath, "-u", $0, "--", executable] + arguments } ?? ([executable] + arguments)
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        let envp = environment.map { "\($0.key)=\($0.value)" }

        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("channelguard-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        let pid = try Spawn.start(argv, environment: envp, outputPath: outputPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else {
                throw StoreError(.startFailed, "waitpid failed: \(String(cString: strerror(errno)))")
            }
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Result(status: Spawn.exitCode(fromWaitStatus: status), output: output)
    }

    static let runuserPath: String = {
        for candidate in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "/usr/sbin/runuser"
    }()
}

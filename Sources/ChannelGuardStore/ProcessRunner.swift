import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a helper program (initdb, pg_ctl) to completion, optionally as another user through
/// `runuser`, capturing its output.
///
/// Uses `posix_spawn` and `waitpid` rather than Foundation's `Process`: `pg_ctl start` leaves the
/// postmaster running, and `Process.waitUntilExit` on Linux then waits on a descriptor the daemon
/// inherited, forever. Output goes to a temporary file for the same reason (a pipe would stay open).
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

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var pid: pid_t = 0
        let spawned = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                posix_spawn(&pid, argv[0], &actions, nil, argvPointers, envPointers)
            }
        }
        guard spawned == 0 else {
            throw StoreError(.startFailed, "Cannot run \(argv[0]): \(String(cString: strerror(spawned))).")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else {
                throw StoreError(.startFailed, "waitpid failed: \(String(cString: strerror(errno)))")
            }
        }
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Result(status: exitCode, output: output)
    }

    private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }

    static let runuserPath: String = {
        for candidate in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "/usr/sbin/runuser"
    }()
}

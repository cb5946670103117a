import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program started by a test, its output collected in a file, with bounded waits.
///
/// Spawned with `posix_spawn` rather than Foundation's `Process`, whose exit detection on Linux can
/// hang when the child leaves a daemon (the embedded PostgreSQL) running.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let outputPath: String
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments`, stdin from /dev/null.
    public init(_ executable: String, _ arguments: [String]) throws {
        outputPath =
            FileManager.default.temporaryDirectory.appendingPathComponent("cg-child-\(UUID().uuidString).out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard result == 0 else {
            throw ChildProcessError(message: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Everything the process has written so far (stdout and stderr).
    public var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    /// Waits until the output contains `text`, the process exits, or `timeout` passes.
    public func waitForOutput(containing text: String, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            if poll() != nil { return output.contains(text) }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Waits for the process to exit; `nil` when it is still running after `timeout`.
    public func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = poll() { return status }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// The exit status if the process has exited (128 + signal when a signal ended it).
    public func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return exitStatus
    }

    deinit {
        if poll() == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        unlink(outputPath)
    }

    /// The `channelguard` executable built beside the test bundle.
    public static func channelguardExecutable() throws -> String {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("channelguard")
            .path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ChildProcessError(message: "\(path) is missing: build it first (swift build --build-tests builds it)")
        }
        return path
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

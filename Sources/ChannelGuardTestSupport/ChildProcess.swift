import ChannelGuardStore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program started by a test, its output collected in a file, with bounded waits.
///
/// Started through the store's ``Spawn``, like the PostgreSQL helper programs.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let outputPath: String
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments`, stdin from /dev/null.
    public init(_ executable: String, _ arguments: [String]) throws {
        outputPath =
            FileManager.default.temporaryDirectory.appendingPathComponent("cg-child-\(UUID().uuidString).out").path
        let pid = try Spawn.start([executable] + arguments, outputPath: outputPath)
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
        exitStatus = Spawn.exitCode(fromWaitStatus: status)
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
        try executable(named: "channelguard")
    }

    /// An executable of this package, built beside the test bundle.
    public static func executable(named name: String) throws -> String {
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent(name).path
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

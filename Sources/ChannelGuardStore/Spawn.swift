#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts programs with `posix_spawn`: stdin from /dev/null, stdout and stderr into one file.
///
/// Foundation's `Process` is not used: on Linux its exit detection waits on a descriptor that a
/// daemon started by the child (the postmaster under `pg_ctl start`) inherits, so it never returns.
/// A file rather than a pipe for the same reason.
public enum Spawn {
    /// Starts `argv[0]` (an absolute path) and returns its process id.
    ///
    /// - Parameter environment: `KEY=value` strings; `nil` passes this process's environment.
    public static func start(
        _ argv: [String],
        environment: [String]? = nil,
        outputPath: String
    ) throws(StoreError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let arguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in arguments { free(pointer) } }
        var pid: pid_t = 0
        let result: Int32
        if let environment {
            let variables = environment.map { strdup($0) } + [nil]
            defer { for pointer in variables { free(pointer) } }
            result = posix_spawn(&pid, argv[0], &actions, nil, arguments, variables)
        } else {
            result = posix_spawn(&pid, argv[0], &actions, nil, arguments, environ)
        }
        guard result == 0 else {
            throw StoreError(.startFailed, "Cannot run \(argv[0]): \(String(cString: strerror(result))).")
        }
        return pid
    }

    /// Decodes a `waitpid` status: the exit code, or 128 + the signal that ended the process.
    public static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

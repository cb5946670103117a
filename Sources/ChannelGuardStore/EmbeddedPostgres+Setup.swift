import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EmbeddedPostgres {
    /// Creates the data directory layout and checks that the server user owns and can reach it.
    func prepareDirectories(user: ServerUser) throws(StoreError) {
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                .dataDirectoryOwnedByOtherUser,
                "Cannot create \(dataDirectory.path): \(error.localizedDescription)",
                fix: "Choose a --data-dir you can write to."
            )
        }
        guard access(dataDirectory.path, W_OK) == 0 else {
            throw StoreError(
                .dataDirectoryOwnedByOtherUser,
                "The data directory \(dataDirectory.path) belongs to \(ownerName(of: dataDirectory.path)) and is not writable by this user.",
                fix: "Run ChannelGuard as that user, or choose another --data-dir."
            )
        }
        for directory in [clusterDirectory, socketDirectory, logDirectory] {
            if fileManager.fileExists(atPath: directory.path) {
                let owner = ownerID(of: directory.path)
                if owner != user.uid {
                    throw StoreError(
                        .dataDirectoryOwnedByOtherUser,
                        "\(directory.path) belongs to \(ownerName(of: directory.path)), but the server runs as \(user.name).",
                        fix:
                            "Run ChannelGuard as the user that created it, `chown -R \(user.name) \(dataDirectory.path)`, "
                            + "or choose another --data-dir."
                    )
                }
            } else {
                guard mkdir(directory.path, 0o700) == 0 || errno == EEXIST else {
                    throw StoreError(
                        .dataDirectoryOwnedByOtherUser,
                        "Cannot create \(directory.path): \(String(cString: strerror(errno)))."
                    )
                }
                if user.runAs != nil { _ = chown(directory.path, user.uid, user.gid) }
            }
        }
        if user.runAs != nil {
            let probe = try run(user: user, "/usr/bin/test", ["-w", clusterDirectory.path])
            if !probe.succeeded {
                let blocker = firstUnreachableAncestor(for: user) ?? dataDirectory.path
                throw StoreError(
                    .dataDirectoryUnreachable,
                    "The server user '\(user.name)' cannot reach \(clusterDirectory.path): \(blocker) does not let it through.",
                    fix: "Pass --data-dir with a path that user can reach (e.g. --data-dir /var/lib/channelguard), "
                        + "or run ChannelGuard as an ordinary user."
                )
            }
        }
    }

    /// Runs `initdb` with a random superuser password stored beside the cluster.
    func initialise(binaries: PostgresBinaries, user: ServerUser) throws(StoreError) {
        let password = Self.randomPassword()
        let fileManager = FileManager.default
        // initdb reads the password from a file the server user can read; it is removed at once.
        let pwfile = socketDirectory.appendingPathComponent("initdb-password")
        try writeSecret(password, to: pwfile)
        if user.runAs != nil { _ = chown(pwfile.path, user.uid, user.gid) }
        defer { try? fileManager.removeItem(at: pwfile) }
        var arguments = [
            "-D", clusterDirectory.path, "-U", configuration.superuser, "--pwfile=\(pwfile.path)",
            "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8",
        ]
        if configuration.durability == .throwaway { arguments.append("--no-sync") }
        let result = try run(user: user, binaries.initdb, arguments)
        guard result.succeeded else {
            throw StoreError(
                .initFailed,
                "initdb failed:\n\(result.output)",
                fix: "Remove the half-made \(clusterDirectory.path) and try again, or choose another --data-dir."
            )
        }
        try writeSecret(password, to: passwordFile)
    }

    /// Writes a line readable by its owner only (mode 0600).
    private func writeSecret(_ secret: String, to url: URL) throws(StoreError) {
        let written = FileManager.default.createFile(
            atPath: url.path,
            contents: Data((secret + "\n").utf8),
            attributes: [.posixPermissions: 0o600]
        )
        guard written else { throw StoreError(.initFailed, "Cannot write \(url.path).") }
    }

    /// The explicit port when free; else the last port used when still free; else a new free one.
    func choosePort() throws(StoreError) -> Int {
        if let port = configuration.port {
            guard LoopbackPort.isFree(port) else {
                throw StoreError(
                    .portInUse,
                    "Port \(port) on 127.0.0.1 is in use by another process.",
                    fix: "Choose another --db-port, or leave it out to let ChannelGuard pick a free one."
                )
            }
            return port
        }
        if let text = try? String(contentsOf: portFile, encoding: .utf8),
            let previous = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), LoopbackPort.isFree(previous)
        {
            return previous
        }
        guard let port = LoopbackPort.pickFree() else {
            throw StoreError(.portInUse, "No free TCP port on 127.0.0.1.", fix: "Free a port or pass --db-port.")
        }
        return port
    }

    /// Starts the server with `pg_ctl start -w`.
    func launch(binaries: PostgresBinaries, user: ServerUser, port: Int) throws(StoreError) {
        var options = [
            "-p \(port)", "-k \(socketDirectory.path)", "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
        ]
        if configuration.durability == .throwaway {
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        } else {
            // Room for the write-ahead log of a busy ingest between checkpoints. With the default
            // 1 GB, full speed (about 20 MB/s of WAL) forced a checkpoint every 23–29 s (the
            // server's log asks for a larger max_wal_size), and after each one every page's first
            // change is logged whole, which slowed commits for seconds. With 4 GB a checkpoint
            // starts after about 2.1 GB: every 3–4 minutes at 1 M events/s.
            options += ["-c max_wal_size=4GB", "-c checkpoint_timeout=10min"]
        }
        let result = try run(
            user: user,
            binaries.pgCtl,
            [
                "start", "-D", clusterDirectory.path, "-l", logFile.path, "-w",
                "-t", String(configuration.timeoutSeconds), "-o", options.joined(separator: " "),
            ]
        )
        guard result.succeeded else {
            let log = logTail()
            if log.contains("could not bind") || log.contains("Address already in use") {
                throw StoreError(
                    .portInUse,
                    "The server could not listen on port \(port): it is in use.\n\(log)",
                    fix: "Choose another --db-port, or leave it out to let ChannelGuard pick a free one."
                )
            }
            if log.contains("lock file") && log.contains("already exists") {
                throw StoreError(
                    .dataDirectoryLocked,
                    "Another server holds \(clusterDirectory.path).\n\(log)",
                    fix: "Stop it (channelguard db stop) or choose another --data-dir."
                )
            }
            throw StoreError(
                .startFailed,
                "pg_ctl start failed:\n\(result.output)\n\(log)",
                fix: "See \(logFile.path)."
            )
        }
        try? Data("\(port)\n".utf8).write(to: portFile)
    }

    /// Creates ChannelGuard's database in the cluster when it does not exist yet.
    func createDatabaseIfMissing(port: Int) throws(StoreError) {
        let admin = try LibPQConnection(url: url(port: port, database: "postgres"))
        let exists = try admin.execute("SELECT 1 FROM pg_database WHERE datname = $1", [configuration.database])
        if exists.isEmpty {
            try admin.execute("CREATE DATABASE \(quoteIdentifier(configuration.database))")
        }
    }

    private func firstUnreachableAncestor(for user: ServerUser) -> String? {
        var path = "/"
        for component in clusterDirectory.pathComponents.dropFirst() {
            path = (path as NSString).appendingPathComponent(component)
            if let result = try? ProcessRunner(user: user.runAs).run("/usr/bin/test", ["-x", path]), !result.succeeded {
                return path
            }
        }
        return nil
    }

    private func ownerID(of path: String) -> uid_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_uid : uid_t.max
    }

    private func ownerName(of path: String) -> String {
        let uid = ownerID(of: path)
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name { return "user '\(String(cString: name))'" }
        return "uid \(uid)"
    }

    static func randomPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined()
    }
}

/// Double-quotes an SQL identifier.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

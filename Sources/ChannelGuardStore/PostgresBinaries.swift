import Foundation

/// Where the PostgreSQL server programs are.
struct PostgresBinaries: Sendable {
    let directory: String
    var initdb: String { directory + "/initdb" }
    var pgCtl: String { directory + "/pg_ctl" }
    var postgres: String { directory + "/postgres" }

    /// Searches `searchPath`, or by default `pg_config --bindir` and then `/usr/lib/postgresql/*/bin`
    /// (newest major version first), for a folder holding `initdb`, `pg_ctl` and `postgres`.
    static func locate(searchPath: [String]?) throws(StoreError) -> PostgresBinaries {
        let candidates = searchPath ?? defaultCandidates()
        for directory in candidates {
            let binaries = PostgresBinaries(directory: directory)
            if [binaries.initdb, binaries.pgCtl, binaries.postgres].allSatisfy(
                FileManager.default.isExecutableFile(atPath:)
            ) {
                return binaries
            }
        }
        throw StoreError(
            .binariesNotFound,
            "The PostgreSQL server programs (initdb, pg_ctl, postgres) were not found in: "
                + (candidates.isEmpty ? "(no candidate folders)" : candidates.joined(separator: ", ")) + ".",
            fix: "Install them: `apt-get install -y postgresql` (Debian/Ubuntu), "
                + "or pass --database-url to use a PostgreSQL server you run yourself."
        )
    }

    static func defaultCandidates() -> [String] {
        var candidates: [String] = []
        if let pgConfig = ["/usr/bin/pg_config", "/usr/local/bin/pg_config"]
            .first(where: FileManager.default.isExecutableFile(atPath:)),
            let result = try? ProcessRunner(user: nil).run(pgConfig, ["--bindir"]), result.succeeded
        {
            candidates.append(result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name in Int(name).map { ($0, name) } }
            .sorted { $0.0 > $1.0 }
        candidates += versions.map { "\(root)/\($0.1)/bin" }
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }
    }
}

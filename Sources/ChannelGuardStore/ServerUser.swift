#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating-system user the PostgreSQL server runs as.
struct ServerUser: Sendable {
    let name: String
    let uid: uid_t
    let gid: gid_t
    /// The user to switch to with `runuser`; `nil` when the server runs as ourselves.
    let runAs: String?

    /// Ourselves, unless we are root: then the configured unprivileged user, which must exist.
    static func resolve(configuredName: String) throws(StoreError) -> ServerUser {
        let uid = geteuid()
        if uid != 0 {
            let name = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(uid)"
            return ServerUser(name: name, uid: uid, gid: getegid(), runAs: nil)
        }
        guard let entry = getpwnam(configuredName) else {
            throw StoreError(
                .noServerUser,
                "ChannelGuard runs as root and PostgreSQL refuses root, but the user '\(configuredName)' it would run the server as does not exist.",
                fix: "Install PostgreSQL (`apt-get install -y postgresql` creates the postgres user), "
                    + "or create one: `useradd --system \(configuredName)`."
            )
        }
        return ServerUser(
            name: configuredName,
            uid: entry.pointee.pw_uid,
            gid: entry.pointee.pw_gid,
            runAs: configuredName
        )
    }
}

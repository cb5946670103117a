import Foundation

/// A PostgreSQL connection URL (`postgresql://user:password@host:port/database?host=/socket/dir`).
///
/// Parsed strictly so a typo is reported at start, not as a confusing connection failure later.
public struct DatabaseURL: Hashable, Sendable, CustomStringConvertible {
    public var user: String
    public var password: String?
    /// A host name or address; `nil` when connecting through a Unix socket directory.
    public var host: String?
    public var port: Int
    public var database: String
    /// A Unix socket directory (`?host=/dir`), used instead of TCP when set.
    public var socketDirectory: String?
    /// The `sslmode` query parameter, if any.
    public var sslMode: String?

    public init(
        user: String,
        password: String? = nil,
        host: String? = "127.0.0.1",
        port: Int = 5432,
        database: String,
        socketDirectory: String? = nil,
        sslMode: String? = nil
    ) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.socketDirectory = socketDirectory
        self.sslMode = sslMode
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    public init(parsing text: String) throws(StoreError) {
        func bad(_ why: String) -> StoreError {
            StoreError(
                .badDatabaseURL,
                "The database URL '\(DatabaseURL.redacting(text))' is not usable: \(why).",
                fix: "Give a URL of the form postgresql://USER:PASSWORD@HOST:PORT/DATABASE "
                    + "(or leave --database-url and CHANNELGUARD_DATABASE_URL unset to use the embedded database)."
            )
        }
        guard let components = URLComponents(string: text) else { throw bad("it is not a URL") }
        guard let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw bad("the scheme must be postgresql:// or postgres://")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw bad("it names no user")
        }
        let path = components.path
        let database = String(path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw bad("it names no database (the path)") }
        var socketDirectory: String?
        var sslMode: String?
        var port = components.port ?? 5432
        for item in components.queryItems ?? [] {
            switch item.name {
            case "host": socketDirectory = item.value
            case "port":
                guard let value = item.value.flatMap(Int.init) else { throw bad("the port parameter is not a number") }
                port = value
            case "sslmode": sslMode = item.value
            default: throw bad("the parameter '\(item.name)' is not supported (host, port and sslmode are)")
            }
        }
        guard (1...65535).contains(port) else { throw bad("the port \(port) is out of range") }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 }
        guard host != nil || socketDirectory != nil else { throw bad("it names no host and no socket directory") }
        if let socketDirectory, !socketDirectory.hasPrefix("/") {
            throw bad("the socket directory must be an absolute path")
        }
        self.init(
            user: user,
            password: components.percentEncodedPassword.flatMap { $0.removingPercentEncoding },
            host: host,
            port: port,
            database: database,
            socketDirectory: socketDirectory,
            sslMode: sslMode
        )
    }

    /// The URL in full, password included: what `channelguard db url` prints.
    public var urlString: String {
        var text = "postgresql://" + Self.encode(user)
        if let password { text += ":" + Self.encode(password) }
        text += "@" + (host ?? "")
        if host != nil { text += ":\(port)" }
        text += "/" + Self.encode(database)
        var query: [String] = []
        if let socketDirectory { query.append("host=\(Self.encode(socketDirectory))") }
        if host == nil { query.append("port=\(port)") }
        if let sslMode { query.append("sslmode=\(sslMode)") }
        if !query.isEmpty { text += "?" + query.joined(separator: "&") }
        return text
    }

    /// The URL with its password hidden, for logs.
    public var description: String { Self.redacting(urlString) }

    /// The same server and credentials, another database.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    static func redacting(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    private static func encode(_ part: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return part.addingPercentEncoding(withAllowedCharacters: allowed) ?? part
    }
}

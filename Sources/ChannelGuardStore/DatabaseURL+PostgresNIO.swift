import PostgresNIO

extension DatabaseURL {
    /// A postgres-nio client configuration for this URL (TLS disabled: loopback and sockets only
    /// unless `sslmode=require`), with `settings` (server parameters such as `plan_cache_mode`)
    /// set on each of its connections when it starts.
    public func postgresClientConfiguration(settings: [(String, String)] = []) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory, host == nil {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)",
                username: user,
                password: password,
                database: database
            )
        } else {
            let tls: PostgresClient.Configuration.TLS =
                sslMode == "require" ? .require(.makeClientConfiguration()) : .disable
            configuration = .init(
                host: host ?? "127.0.0.1",
                port: port,
                username: user,
                password: password,
                database: database,
                tls: tls
            )
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = settings
        return configuration
    }
}

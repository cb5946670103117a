/// An error `serve` reports before it starts anything: what is wrong and how to fix it.
public struct ApplicationError: Error, CustomStringConvertible, Sendable {
    /// A stable, machine-readable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The HTTP port is taken.
        public static let httpPortInUse = Code("http_port_in_use")
        /// The TCP ingest port is taken.
        public static let ingestPortInUse = Code("ingest_port_in_use")
    }

    public let code: Code
    public let message: String
    public let fix: String

    public init(_ code: Code, _ message: String, fix: String) {
        self.code = code
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(message)\nFix: \(fix)" }
}

/// Why a code was not accepted, and where: a stable reason code and the byte offset in the input.
public struct CodeRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable reason; new reasons are added as static values.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Nothing to decode.
        public static let empty = Reason("empty")
        /// Not an element string, Digital Link URI or EPC URI.
        public static let unrecognised = Reason("unrecognised")
        /// A symbology identifier that does not carry GS1 data.
        public static let badSymbologyIdentifier = Reason("bad_symbology_identifier")
        /// An Application Identifier that the GS1 General Specifications do not assign.
        public static let unknownAI = Reason("unknown_ai")
        /// A value too short or too long for its AI, or a fixed-length value cut short.
        public static let badLength = Reason("bad_length")
        /// A character outside the AI's character set.
        public static let badCharset = Reason("bad_charset")
        /// A wrong check digit or check character pair.
        public static let badCheckDigit = Reason("bad_check_digit")
        /// A date or time that does not exist.
        public static let badDate = Reason("bad_date")
        /// A value that breaks another rule of its AI (a linter of the Syntax Dictionary).
        public static let badValue = Reason("bad_value")
        /// An AI that needs another AI which is missing (e.g. 21 without 01).
        public static let missingRequisite = Reason("missing_requisite")
        /// Two AIs that must not appear together.
        public static let exclusiveAIs = Reason("exclusive_ais")
        /// The same AI twice with different values.
        public static let duplicateAI = Reason("duplicate_ai")
        /// More AIs in one code than ``ElementStringDecoder/maximumElements``.
        public static let tooManyAIs = Reason("too_many_ais")
        /// Bracketed syntax that does not parse (an unclosed or empty AI).
        public static let badSyntax = Reason("bad_syntax")
        /// A Digital Link or EPC URI that does not follow its syntax.
        public static let badURI = Reason("bad_uri")
        /// A protocol line longer than the limit.
        public static let lineTooLong = Reason("line_too_long")
        /// More fields than the limit.
        public static let tooManyFields = Reason("too_many_fields")
        /// A required field (step, region, time, code) is missing.
        public static let missingField = Reason("missing_field")
        /// Not one of ship, receive, sell, activate, inspect, return.
        public static let badStep = Reason("bad_step")
        /// Not a GB/T 2260 region code.
        public static let badRegion = Reason("bad_region")
        /// Not an RFC 3339 time or Unix milliseconds.
        public static let badTime = Reason("bad_time")
        /// An optional field whose value does not parse.
        public static let badField = Reason("bad_field")
        /// An optional field ChannelGuard does not know.
        public static let unknownField = Reason("unknown_field")
        /// The same optional field twice.
        public static let duplicateField = Reason("duplicate_field")
        /// A binary frame whose header or length is malformed.
        public static let badFrame = Reason("bad_frame")
        /// A binary frame of a protocol version this server does not speak.
        public static let unsupportedVersion = Reason("unsupported_version")
        /// A binary frame from a gateway id that is not registered (or disabled).
        public static let unknownGateway = Reason("unknown_gateway")
        /// A binary frame whose HMAC-SHA256 tag does not match: rejected whole.
        public static let badSignature = Reason("bad_signature")
        /// A binary record that is cut short or malformed, so the records after it cannot be found.
        public static let badRecord = Reason("bad_record")
        /// A valid code that identifies no single unit: no serial with its GTIN, no SSCC.
        public static let notSerialised = Reason("not_serialised")
    }

    public let reason: Reason
    /// The byte offset in the input where the problem is.
    public let offset: Int
    public let message: String

    public init(_ reason: Reason, at offset: Int, _ message: String) {
        self.reason = reason
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(reason) at \(offset): \(message)" }
}

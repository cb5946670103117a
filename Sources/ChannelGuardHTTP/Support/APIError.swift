import Foundation
import HTTPTypes
import Hummingbird

/// An error the API returns: an HTTP status and a JSON body
/// `{"error": {"code": "...", "message": "...", "parameter": "..."}}`.
///
/// Codes are a growable set of strings, so clients can match on them and new ones can be added
/// without breaking anyone.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    /// A machine-readable reason, with the HTTP status it maps to.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public let status: HTTPResponse.Status

        public init(_ name: String, status: HTTPResponse.Status) {
            self.name = name
            self.status = status
        }

        public var description: String { name }

        /// No token, or one that is unknown, revoked, expired or of a disabled account.
        public static let unauthenticated = Code("unauthenticated", status: .unauthorized)
        /// The role may not do this.
        public static let forbidden = Code("forbidden", status: .forbidden)
        /// A distributor account asked for something outside its subtree.
        public static let outOfScope = Code("out_of_scope", status: .forbidden)
        public static let notFound = Code("not_found", status: .notFound)
        /// A query parameter or body field is malformed or out of range.
        public static let invalidParameter = Code("invalid_parameter", status: .badRequest)
        /// The body is not the JSON the endpoint takes.
        public static let invalidBody = Code("invalid_body", status: .badRequest)
        /// An incident workflow step that its current status does not allow.
        public static let invalidTransition = Code("invalid_transition", status: .conflict)
        /// A WebSocket endpoint was called without the upgrade.
        public static let upgradeRequired = Code("upgrade_required", status: .upgradeRequired)
        public static let unavailable = Code("unavailable", status: .serviceUnavailable)
    }

    public var code: Code
    public var message: String
    /// The query parameter or body field at fault.
    public var parameter: String?

    public init(_ code: Code, _ message: String, parameter: String? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    public var description: String { "\(code): \(message)" }

    public var status: HTTPResponse.Status { code.status }

    public var headers: HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if code == .unauthenticated { fields[.wwwAuthenticate] = "Bearer realm=\"channelguard\"" }
        return fields
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        APIRejections.shared.count(code.name)
        var error: [String: String] = ["code": code.name, "message": message]
        if let parameter { error["parameter"] = parameter }
        let body = try JSONEncoder.sorted.encode(["error": error])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }
}

extension JSONEncoder {
    /// Keys in a stable order (responses are compared in tests and read by people).
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The API's encoder: snake_case keys, ISO 8601 times with milliseconds.
    static var api: JSONEncoder {
        let encoder = JSONEncoder.sorted
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(APITime.format(date))
        }
        return encoder
    }
}

extension JSONDecoder {
    /// The API's decoder for request bodies: snake_case keys.
    static var api: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

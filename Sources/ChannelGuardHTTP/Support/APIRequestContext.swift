import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every route: Hummingbird's core context, the WebSocket upgrade handle,
/// and the caller once ``TokenAuthenticator`` has identified it.
public struct APIRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// Set by ``TokenAuthenticator`` on `/v1` routes.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        principal = nil
    }

    public var requestDecoder: APIRequestDecoder { APIRequestDecoder() }
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }

    /// The caller (routes behind the authenticator always have one).
    public func caller() throws -> Principal {
        guard let principal else { throw APIError(.unauthenticated, "A bearer token is required.") }
        return principal
    }
}

/// Encodes responses with snake_case keys and RFC 3339 times.
public struct APIResponseEncoder: ResponseEncoder {
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response
    {
        let data = try JSONEncoder.api.encode(value)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(data: data))
        )
    }
}

/// Decodes JSON bodies (snake_case keys) and turns a malformed one into `invalid_body`.
public struct APIRequestDecoder: RequestDecoder {
    public func decode<T: Decodable>(
        _ type: T.Type,
        from request: Request,
        context: some RequestContext
    ) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        do {
            return try JSONDecoder.api.decode(type, from: Data(buffer.readableBytesView))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(
                .invalidBody,
                "The body lacks the field \(key.stringValue.snakeCased).",
                parameter: key.stringValue.snakeCased
            )
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue.snakeCased).joined(separator: ".")
            throw APIError(.invalidBody, "The field \(field) has the wrong type.", parameter: field)
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue.snakeCased).joined(separator: ".")
            throw APIError(
                .invalidBody,
                field.isEmpty ? "The body is not valid JSON." : "The field \(field) is not valid.",
                parameter: field.isEmpty ? nil : field
            )
        }
    }
}

extension String {
    /// `camelCase` → `camel_case`, for naming body fields in errors.
    var snakeCased: String {
        var result = ""
        for character in self {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}

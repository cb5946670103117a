import Foundation
import Hummingbird

/// A page of a list: `{"items": [...], "next_cursor": "c123" | null}`. Items arrive as JSON the
/// database rendered (the `api_*` views), so a page is joined here without decoding them.
struct JSONPage: ResponseGenerator {
    var items: [String]
    var nextCursor: String?

    /// A page from `limit + 1` fetched rows (id, body): the extra row says whether more follow.
    init(rows: [(id: Int64, body: String)], limit: Int) {
        let page = rows.prefix(limit)
        items = page.map(\.body)
        nextCursor = rows.count > limit ? page.last.map { QueryReader.cursor(after: $0.id) } : nil
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var text = "{\"items\":[" + items.joined(separator: ",") + "],\"next_cursor\":"
        text += nextCursor.map { "\"\($0)\"" } ?? "null"
        text += "}"
        return JSONBody(text).response(status: .ok)
    }
}

/// A JSON text rendered elsewhere (by the database), sent as is.
struct JSONBody: ResponseGenerator {
    var text: String

    init(_ text: String) { self.text = text }

    func response(status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        response(status: .ok)
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore

/// A Server-Sent Events reader for the tests: opens a stream and hands out its events.
final class SSEClient: @unchecked Sendable {
    struct Event: Sendable, Equatable {
        var id: String?
        var event: String
        var data: String
    }

    let status: Int
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var pending: [UInt8] = []

    private init(status: Int, body: HTTPClientResponse.Body) {
        self.status = status
        self.iterator = body.makeAsyncIterator()
    }

    static func open(port: Int, path: String, token: String?, lastEventID: Int64? = nil) async throws -> SSEClient {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: "\(lastEventID)") }
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
        return SSEClient(status: Int(response.status.code), body: response.body)
    }

    /// The next event (comments skipped), or `nil` when the stream ends.
    func next() async throws -> Event? {
        while true {
            if let end = Self.blockEnd(pending) {
                let block = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 2)
                var event = Event(id: nil, event: "message", data: "")
                var fields = 0
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix(":") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    let value = parts[1].hasPrefix(" ") ? String(parts[1].dropFirst()) : String(parts[1])
                    switch parts[0] {
                    case "id": event.id = value
                    case "event": event.event = value
                    case "data": event.data += event.data.isEmpty ? value : "\n" + value
                    default: continue
                    }
                    fields += 1
                }
                if fields > 0, event.event != "message" || !event.data.isEmpty { return event }
                continue
            }
            guard let buffer = try await iterator.next() else { return nil }
            pending.append(contentsOf: buffer.readableBytesView)
        }
    }

    /// Reads `count` alert events within `seconds`.
    func alerts(_ count: Int, seconds: Double = 30) async throws -> [Event] {
        try await withThrowingTaskGroup(of: [Event]?.self) { group in
            group.addTask {
                var events: [Event] = []
                while events.count < count, let event = try await self.next() {
                    if event.event == "alert" { events.append(event) }
                }
                return events
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first ?? []
        }
    }

    static func blockEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 10 && bytes[index + 1] == 10 { return index }
        return nil
    }
}

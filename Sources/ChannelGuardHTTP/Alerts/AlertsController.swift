import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import PostgresNIO
import ServiceLifecycle

/// `/v1/alerts`: the stored alerts (newest first, paged), one alert, and the live feed as
/// Server-Sent Events (`/v1/alerts/stream`) and as a WebSocket (`/v1/alerts/ws`).
struct AlertsController {
    let client: PostgresClient
    let hub: AlertHub

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("alerts", use: list)
        group.get("alerts/stream", use: stream)
        group.ws("alerts/ws", shouldUpgrade: shouldUpgrade, onUpgrade: webSocket)
        group.get("alerts/:id", use: show)
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> JSONPage {
        let (principal, query, filter) = try await readFilter(request, context, allowed: AlertFilter.listParameters)
        return try await filter.page(query, scope: principal, client: client, logger: context.logger)
    }

    /// The caller, its query and its alert filter, with a named distributor checked against the
    /// caller's scope: the same for the list, the stream and the WebSocket.
    func readFilter(
        _ request: Request,
        _ context: APIRequestContext,
        allowed: Set<String>
    ) async throws -> (Principal, QueryReader, AlertFilter) {
        let principal = try context.caller()
        let query = try QueryReader(request, allowed: allowed)
        let filter = try AlertFilter(query)
        try await Scope.check(
            filter.distributor,
            of: principal,
            parameter: "distributor",
            client: client,
            logger: context.logger
        )
        return (principal, query, filter)
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> JSONBody {
        let principal = try context.caller()
        _ = try QueryReader(request, allowed: [])
        let id = try context.parameters.positiveID("id")
        let rows = try await client.query(
            "SELECT body, distributor_path FROM api_alerts WHERE id = \(id)",
            logger: context.logger
        )
        for try await (body, path) in rows.decode((String, [Int64]?).self) where principal.sees(path: path) {
            return JSONBody(body)
        }
        throw APIError(.notFound, "No alert \(id) that this account may see.")
    }

    // MARK: Server-Sent Events

    func stream(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (principal, query, filter) = try await readFilter(request, context, allowed: AlertFilter.streamParameters)
        let resumeAfter = try Self.lastEventID(request, query)
        let subscription = await hub.subscribe(filter: filter, principal: principal)
        let client = client
        let hub = hub
        let logger = context.logger
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                defer { hub.unsubscribe(subscription) }
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                var lastSent = try await Self.backfill(
                    after: resumeAfter,
                    upTo: subscription.startID,
                    filter: filter,
                    principal: principal,
                    client: client,
                    logger: logger
                ) { id, body in
                    try await writer.write(ByteBuffer(string: Self.sse(id: id, body: body)))
                }
                // Shutdown ends the stream (the server waits for open responses before the hub stops).
                try await withGracefulShutdownHandler {
                    for await event in subscription.events {
                        if event.id == 0 {
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                            continue
                        }
                        guard event.id > lastSent else { continue }
                        try await writer.write(ByteBuffer(string: Self.sse(id: event.id, body: event.body)))
                        lastSent = event.id
                    }
                } onGracefulShutdown: {
                    hub.unsubscribe(subscription)
                }
                if subscription.wasDropped {
                    let notice = "{\"reason\":\"slow_client\",\"resume_after\":\(lastSent)}"
                    try await writer.write(ByteBuffer(string: "event: dropped\ndata: \(notice)\n\n"))
                }
                try await writer.finish(nil)
            }
        )
    }

    static func sse(id: Int64, body: String) -> String {
        "id: \(id)\nevent: alert\ndata: \(body)\n\n"
    }

    /// `Last-Event-ID` (the header browsers send when they reconnect) or `last_event_id`.
    static func lastEventID(_ request: Request, _ query: QueryReader) throws -> Int64? {
        let header = HTTPField.Name("Last-Event-ID").flatMap { request.headers[$0] }
        guard let text = header ?? query.string("last_event_id") else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw APIError(
                .invalidParameter,
                "Last-Event-ID must be the id of an event this stream sent, not \(text).",
                parameter: "last_event_id"
            )
        }
        return value
    }

    /// Sends the stored alerts in (after, upTo] that pass the filter, oldest first; returns the
    /// id below which live events are not sent again.
    static func backfill(
        after: Int64?,
        upTo: Int64,
        filter: AlertFilter,
        principal: Principal,
        client: PostgresClient,
        logger: Logger,
        send: (Int64, String) async throws -> Void
    ) async throws -> Int64 {
        guard var cursor = after else { return upTo }
        guard cursor < upTo else { return cursor }
        while true {
            let rows = try await filter.fetch(
                scope: principal,
                afterID: cursor,
                limit: 1000,
                client: client,
                logger: logger
            )
            for row in rows where row.id <= upTo {
                try await send(row.id, row.body)
            }
            if rows.count < 1000 || rows.contains(where: { $0.id > upTo }) { return upTo }
            cursor = rows.last!.id
        }
    }

    // MARK: WebSocket

    @Sendable func shouldUpgrade(_ request: Request, context: APIRequestContext) async throws -> RouterShouldUpgrade {
        let (_, query, _) = try await readFilter(request, context, allowed: AlertFilter.streamParameters)
        _ = try Self.lastEventID(request, query)
        guard request.headers[.upgrade]?.lowercased() == "websocket" else {
            throw APIError(.upgradeRequired, "This is a WebSocket endpoint: connect with Upgrade: websocket.")
        }
        return .upgrade([:])
    }

    /// Sends each alert as a text message (the alert's JSON, whose `id` a client keeps to resume
    /// with `?last_event_id=`); closes with 1013 (try again later) when the client falls behind.
    @Sendable func webSocket(
        _ inbound: WebSocketInboundStream,
        _ outbound: WebSocketOutboundWriter,
        _ context: WebSocketRouterContext<APIRequestContext>
    ) async throws {
        guard let principal = context.requestContext.principal else { return }
        let query = try QueryReader(context.request, allowed: AlertFilter.streamParameters)
        let filter = try AlertFilter(query)
        let resumeAfter = try Self.lastEventID(context.request, query)
        let subscription = await hub.subscribe(filter: filter, principal: principal)
        defer { hub.unsubscribe(subscription) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The client's messages are read (and ignored) so its close frame is seen.
            group.addTask {
                for try await _ in inbound {}
            }
            group.addTask { [client, hub] in
                var lastSent = try await Self.backfill(
                    after: resumeAfter,
                    upTo: subscription.startID,
                    filter: filter,
                    principal: principal,
                    client: client,
                    logger: context.logger
                ) { _, body in
                    try await outbound.write(.text(body))
                }
                try await withGracefulShutdownHandler {
                    for await event in subscription.events where event.id > lastSent {
                        try await outbound.write(.text(event.body))
                        lastSent = event.id
                    }
                } onGracefulShutdown: {
                    hub.unsubscribe(subscription)
                }
                if subscription.wasDropped {
                    try await outbound.close(.init(codeNumber: 1013), reason: "slow client; resume after \(lastSent)")
                }
                _ = hub
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

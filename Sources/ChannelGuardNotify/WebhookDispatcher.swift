import AsyncHTTPClient
import ChannelGuardStore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// Delivers the queued webhook messages (`webhook_deliveries`, queued by the incident triggers in
/// the same transaction as the change they report): woken by `NOTIFY channelguard_webhooks` and
/// polling for due retries. A failed attempt is retried after an exponentially growing delay; after
/// the subscription's `max_attempts` the delivery is dead-lettered (`status = 'dead'`), visible and
/// retryable through the API.
///
/// Deliveries are at least once: a crash between sending and recording sends again. Receivers
/// deduplicate by `X-ChannelGuard-Delivery` (generic) — the id is stable across attempts.
public final class WebhookDispatcher: Service, Sendable {
    let client: PostgresClient
    let configuration: WebhookConfiguration
    let logger: Logger

    public init(client: PostgresClient, configuration: WebhookConfiguration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    struct Claimed: Sendable {
        var id: Int64
        var event: String
        var incident: Int64
        var attempts: Int
        var payload: String?
        var url: String
        var format: WebhookFormat
        var secret: String
        var maxAttempts: Int
    }

    public func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        await client.runOnWakeups("channelguard_webhooks", every: configuration.pollInterval, logger: logger) {
            [self] in
            do {
                while try await deliverDue(http: http) > 0 {}
            } catch {
                logger.warning("webhooks: a delivery round failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
        try? await http.shutdown()
    }

    /// Claims and sends the due deliveries; returns how many it sent.
    func deliverDue(http: HTTPClient) async throws -> Int {
        let lease = Int(configuration.requestTimeout.components.seconds) * 3 + 30
        let rows = try await client.query(
            """
            UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, last_attempt_at = now(), locked_until = now() + make_interval(secs => \(lease))
            FROM webhook_subscriptions s
            WHERE d.id IN (SELECT id FROM webhook_deliveries
                           WHERE status = 'pending' AND next_attempt_at <= now()
                             AND (locked_until IS NULL OR locked_until < now())
                           ORDER BY next_attempt_at, id LIMIT \(configuration.concurrency * 4)
                           FOR UPDATE SKIP LOCKED)
              AND s.id = d.subscription_id
            RETURNING d.id, d.event, d.incident_id, d.attempts, d.payload, s.url, s.format, s.secret, s.max_attempts
            """,
            logger: logger
        )
        var claimed: [Claimed] = []
        for try await (id, event, incident, attempts, payload, url, format, secret, maxAttempts) in rows.decode(
            (Int64, String, Int64, Int, String?, String, String, String, Int).self
        ) {
            claimed.append(
                Claimed(
                    id: id,
                    event: event,
                    incident: incident,
                    attempts: attempts,
                    payload: payload,
                    url: url,
                    format: WebhookFormat(rawValue: format) ?? .generic,
                    secret: secret,
                    maxAttempts: maxAttempts
                )
            )
        }
        guard !claimed.isEmpty else { return 0 }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for delivery in claimed {
                if running >= configuration.concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { [self] in await deliver(delivery, http: http) }
                running += 1
            }
        }
        return claimed.count
    }

    func deliver(_ delivery: Claimed, http: HTTPClient) async {
        var payload = delivery.payload
        var outcome: (ok: Bool, status: Int?, error: String?)
        do {
            if payload == nil { payload = try await render(delivery) }
            outcome = await send(delivery, body: payload!, http: http)
        } catch {
            outcome = (false, nil, "rendering failed: \(error)")
        }
        do {
            try await record(delivery, payload: payload, outcome: outcome)
        } catch {
            logger.warning(
                "webhooks: recording a delivery failed (it will be sent again)",
                metadata: ["delivery": "\(delivery.id)", "error": "\(error)"]
            )
        }
    }

    func render(_ delivery: Claimed) async throws -> String {
        let rows = try await client.query(
            "SELECT body FROM api_incidents WHERE id = \(delivery.incident)",
            logger: logger
        )
        var json: String?
        for try await body in rows.decode(String.self) { json = body }
        guard let json else { throw WebhookError(message: "incident \(delivery.incident) is gone") }
        let facts = try IncidentFacts(json: json)
        let base =
            configuration.publicBaseURL.hasSuffix("/")
            ? String(configuration.publicBaseURL.dropLast()) : configuration.publicBaseURL
        return delivery.format.render(
            event: delivery.event,
            incident: facts,
            incidentJSON: json,
            link: "\(base)/v1/incidents/\(delivery.incident)",
            deliveryID: delivery.id
        )
    }

    func send(_ delivery: Claimed, body: String, http: HTTPClient) async -> (ok: Bool, status: Int?, error: String?) {
        let prepared = delivery.format.prepare(
            body: body,
            url: delivery.url,
            secret: delivery.secret,
            now: Date(),
            deliveryID: delivery.id,
            event: delivery.event
        )
        var request = HTTPClientRequest(url: prepared.url)
        request.method = .POST
        for (name, value) in prepared.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: prepared.body))
        do {
            let timeout = TimeAmount.milliseconds(
                Int64(configuration.requestTimeout.components.seconds * 1000)
                    + configuration.requestTimeout.components.attoseconds / 1_000_000_000_000_000
            )
            let response = try await http.execute(request, timeout: timeout)
            let answer = try await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                return (false, status, "HTTP \(status)")
            }
            let verdict = delivery.format.accepted(responseBody: Array(answer.readableBytesView))
            return (verdict.ok, status, verdict.detail)
        } catch {
            return (false, nil, "\(error)")
        }
    }

    func record(_ delivery: Claimed, payload: String?, outcome: (ok: Bool, status: Int?, error: String?)) async throws {
        if outcome.ok {
            try await client.query(
                """
                UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), locked_until = NULL,
                       last_status = \(outcome.status), last_error = NULL, payload = \(payload)
                WHERE id = \(delivery.id)
                """,
                logger: logger
            )
            return
        }
        let dead = delivery.attempts >= delivery.maxAttempts
        let delay = configuration.delay(afterAttempt: delivery.attempts)
        let milliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
        try await client.query(
            """
            UPDATE webhook_deliveries
            SET status = \(dead ? "dead" : "pending"), locked_until = NULL, last_status = \(outcome.status),
                last_error = \(outcome.error), payload = \(payload),
                next_attempt_at = now() + make_interval(secs => \(Double(milliseconds) / 1000))
            WHERE id = \(delivery.id)
            """,
            logger: logger
        )
        logger.info(
            dead ? "webhook delivery dead-lettered" : "webhook delivery failed; will retry",
            metadata: [
                "delivery": "\(delivery.id)", "attempt": "\(delivery.attempts)", "error": "\(outcome.error ?? "")",
            ]
        )
    }
}

/// A delivery that could not be prepared.
public struct WebhookError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

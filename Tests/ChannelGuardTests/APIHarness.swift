import AsyncHTTPClient
import ChannelGuardApp
import ChannelGuardHTTP
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardNotify
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

/// A small network with two subtrees for the API tests:
///
///     HQ ─┬─ AGENT-GD (Guangdong 44) ── DEALER-SZ (Shenzhen 4403): serials SZ001…SZ100
///         └─ AGENT-BJ (Beijing 11)   ── DEALER-BJ (Beijing 1101): serials BJ001…BJ100
///
/// Dealers buy at 800.00 a unit. A scan of an SZ serial in Beijing (110105) or of a BJ serial in
/// Shenzhen (440305) is a cross-province diversion.
enum APIFixture {
    static let gtin = "06901234567892"

    static let setup = """
        INSERT INTO price_lists (code, name) VALUES ('PL-DEALER', 'Dealers');
        INSERT INTO distributors (code, name, tier) VALUES ('HQ', 'HQ', 'hq');
        INSERT INTO distributors (code, name, tier, parent_id, home_region)
            SELECT 'AGENT-GD', 'Guangdong agent', 'provincial_agent', id, '440000' FROM distributors WHERE code = 'HQ';
        INSERT INTO distributors (code, name, tier, parent_id, home_region)
            SELECT 'AGENT-BJ', 'Beijing agent', 'provincial_agent', id, '110000' FROM distributors WHERE code = 'HQ';
        INSERT INTO distributors (code, name, tier, parent_id, home_region, price_list_id)
            SELECT 'DEALER-SZ', 'Shenzhen dealer', 'city_dealer', d.id, '440300', p.id
            FROM distributors d, price_lists p WHERE d.code = 'AGENT-GD';
        INSERT INTO distributors (code, name, tier, parent_id, home_region, price_list_id)
            SELECT 'DEALER-BJ', 'Beijing dealer', 'city_dealer', d.id, '110100', p.id
            FROM distributors d, price_lists p WHERE d.code = 'AGENT-BJ';
        INSERT INTO territory_grants (distributor_id, region_code, valid_from)
            SELECT id, home_region, '2020-01-01' FROM distributors WHERE code <> 'HQ';
        INSERT INTO products (gtin, sku, name, category) VALUES ('\(gtin)', 'P1', 'Product', 'test');
        INSERT INTO price_list_items (price_list_id, product_id, unit_price) SELECT l.id, p.id, 800.00 FROM price_lists l, products p;
        INSERT INTO shipments (code, from_distributor_id, to_distributor_id, shipped_at)
            SELECT 'S-' || d.code, h.id, d.id, '2026-11-01 08:00+00'
            FROM distributors h, distributors d WHERE h.code = 'HQ' AND d.code IN ('DEALER-SZ', 'DEALER-BJ');
        INSERT INTO serial_bindings (gtin, serial, shipment_id, bound_at)
            SELECT '\(gtin)', substr(s.code, 10, 2) || lpad(n::text, 3, '0'), s.id, '2026-11-01 08:00+00'
            FROM shipments s, generate_series(1, 100) n;
        """

    /// An inspect scan line of `serial` in `region` at `time` (RFC 3339).
    static func inspect(_ serial: String, in region: String, at time: String) -> String {
        "inspect \(region) \(time) (01)\(gtin)(21)\(serial)"
    }

    static func distributorID(_ code: String, _ connection: LibPQConnection) throws -> Int64 {
        Int64(try connection.execute("SELECT id FROM distributors WHERE code = $1", [code])[0][0] ?? "") ?? 0
    }

    /// An admin token, made straight in the database (as `token create` does).
    static func adminToken(_ connection: LibPQConnection) throws -> String {
        let token = APITokens.generate()
        let hash = APITokens.hash(token).map { String(format: "%02x", $0) }.joined()
        try connection.execute(
            """
            INSERT INTO accounts (username, display_name, role) VALUES ('root', 'Root', 'admin');
            INSERT INTO api_tokens (account_id, name, token_prefix, token_hash)
                SELECT id, 'test', '\(token.prefix(8))', '\\x\(hash)'::bytea FROM accounts WHERE username = 'root';
            """
        )
        return token
    }
}

/// One response of the API, checked against docs/openapi.yaml when it was received.
struct APIResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: body)) ?? .null }
    var errorCode: String? { json["error"]?["code"]?.string }
}

/// The API of a running server, called over loopback.
struct API: Sendable {
    let port: Int

    func call(
        _ method: HTTPMethod,
        _ path: String,
        token: String?,
        body: String? = nil,
        headers: [(String, String)] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        let result = APIResponse(
            status: Int(response.status.code),
            headers: response.headers,
            body: Data(buffer: buffer)
        )
        let problems = OpenAPIValidator.shared.check(
            method: method.rawValue,
            path: path,
            status: result.status,
            contentType: response.headers.first(name: "content-type"),
            body: result.body
        )
        #expect(
            problems.isEmpty,
            "\(method.rawValue) \(path) → \(result.status) differs from docs/openapi.yaml: \(problems)",
            sourceLocation: sourceLocation
        )
        return result
    }

    func get(
        _ path: String,
        token: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIResponse {
        try await call(.GET, path, token: token, sourceLocation: sourceLocation)
    }

    func post(
        _ path: String,
        token: String?,
        _ body: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> APIResponse {
        try await call(.POST, path, token: token, body: body, sourceLocation: sourceLocation)
    }

    /// Makes a token through `POST /v1/tokens`.
    func token(admin: String, username: String, role: String, distributor: Int64? = nil) async throws -> String {
        let response = try await post(
            "/v1/tokens",
            token: admin,
            "{\"username\":\"\(username)\",\"role\":\"\(role)\"\(distributor.map { ",\"distributor_id\":\($0)" } ?? "")}"
        )
        try #require(response.status == 201, "token: \(response.text)")
        return try #require(response.json["token"]?.string)
    }
}

/// Runs `serve` in-process (`buildApplication`) on the suite's database with ingest and HTTP on
/// ports the kernel picks, for a test body.
enum APIHarness {
    struct Ports: Sendable {
        var http: Int
        var tcp: Int
        var udp: Int
    }

    static let fastWebhooks = WebhookConfiguration(
        publicBaseURL: "https://channelguard.example",
        baseDelay: .milliseconds(100),
        maximumDelay: .seconds(1),
        requestTimeout: .seconds(5),
        pollInterval: .milliseconds(50)
    )

    static func run(
        webhooks: WebhookConfiguration = fastWebhooks,
        feed: AlertHub.Configuration = .init(catchUpInterval: .milliseconds(200)),
        _ body: @Sendable (API, Ports, LibPQConnection) async throws -> Void
    ) async throws {
        let database = try TestDatabase.require()
        let (addresses, continuation) = AsyncStream<IngestService.Addresses>.makeStream()
        var configuration = ServeConfiguration(
            database: .external(database.url),
            http: .init(port: 0),
            logLevel: .warning,
            ingest: IngestHarness.configuration(),
            webhooks: webhooks,
            alertFeed: feed
        )
        configuration.onIngestReady = { continuation.yield($0) }
        let app = try await buildApplication(configuration)
        try await app.test(.live) { client in
            var iterator = addresses.makeAsyncIterator()
            let bound = try #require(await iterator.next())
            let ports = Ports(
                http: try #require(client.port),
                tcp: bound.tcp?.port ?? 0,
                udp: bound.udp.first?.port ?? 0
            )
            try await body(API(port: ports.http), ports, try TestDatabase.require().connect())
        }
    }

    /// Sends scan lines to the daemon as UDP datagrams of up to 20 lines.
    static func send(_ lines: [String], udp: Int) throws {
        let socket = try ClientSocket(host: "127.0.0.1", port: udp, transport: .udp)
        for start in stride(from: 0, to: lines.count, by: 20) {
            let chunk = lines[start..<min(start + 20, lines.count)].joined(separator: "\n")
            try socket.send(Array(chunk.utf8))
        }
    }

    /// Waits (bounded) until the live feed has `count` readers (from `/metrics`).
    static func waitForSubscribers(_ count: Int, api: API, seconds: Double = 10) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let metrics = try await api.get("/metrics", token: nil).text
            if let line = metrics.split(separator: "\n").first(where: {
                $0.hasPrefix("channelguard_alert_feed_subscribers ")
            }),
                let value = Int(line.split(separator: " ")[1]), value >= count
            {
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the live feed never had \(count) readers")
    }

    /// Waits (bounded) until the database has `count` alerts, folded into incidents.
    static func waitForAlerts(_ count: Int, _ connection: LibPQConnection, seconds: Double = 30) async throws {
        let reached = try await IngestHarness.wait(seconds: seconds) {
            let row = try connection.execute(
                "SELECT count(*), count(*) FILTER (WHERE incident_id IS NULL) FROM alerts"
            )[0]
            return Int(row[0] ?? "") ?? 0 >= count && row[1] == "0"
        }
        try #require(reached, "fewer than \(count) alerts stored and folded into incidents")
    }
}

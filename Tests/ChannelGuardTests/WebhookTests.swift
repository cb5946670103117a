import ChannelGuardNotify
import ChannelGuardStore
import ChannelGuardTestSupport
import Crypto
import Foundation
import Testing

/// Webhooks: the formats and signatures, and deliveries against a local receiver that fails —
/// retried with backoff, signed on every attempt, dead-lettered after the bound, retried by hand.
@Suite struct WebhookFormatTests {
    static let incidentJSON = """
        {"id":42,"rule":"out_of_territory","severity":"critical","status":"open",
         "distributor":{"id":4,"code":"DEALER-SZ","name":"Shenzhen dealer"},
         "destination_region":{"code":"110100","name":"北京市市辖区"},"units":6,"alert_count":7,
         "first_seen":"2026-11-20T02:00:00.000Z","last_seen":"2026-11-20T03:00:00.000Z","estimated_value":"4800.00"}
        """

    static func hmac(key: String, _ message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(key.utf8))))
    }

    @Test func genericSignaturesVerifyAndRefuseTampering() {
        let body = Array(#"{"event":"incident.opened"}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: "s3cret", timestamp: 1_795_000_000)
        let expected = Self.hmac(key: "s3cret", "1795000000." + String(decoding: body, as: UTF8.self))
            .map { String(format: "%02x", $0) }.joined()
        #expect(header == "t=1795000000,v1=\(expected)")
        #expect(WebhookSignature.verify(header: header, body: body, secret: "s3cret", now: 1_795_000_100))
        #expect(!WebhookSignature.verify(header: header, body: body + [32], secret: "s3cret", now: 1_795_000_100))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: "other", now: 1_795_000_100))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: "s3cret", now: 1_795_001_000))
        #expect(!WebhookSignature.verify(header: "garbage", body: body, secret: "s3cret", now: 1_795_000_000))
    }

    @Test func everyFormatCarriesTheKeyFactsAndTheLink() throws {
        let facts = try IncidentFacts(json: Self.incidentJSON)
        let link = "https://cg.example/v1/incidents/42"
        for format in WebhookFormat.allCases {
            let body = format.render(
                event: "incident.opened",
                incident: facts,
                incidentJSON: Self.incidentJSON,
                link: link,
                deliveryID: 9
            )
            let json = try JSONValue.parse(body)
            #expect(body.contains(link) && body.contains("DEALER-SZ") && (body.contains("4800.00")), "\(format)")
            switch format {
            case .generic: #expect(json["incident"]?["units"]?.int == 6 && json["delivery_id"]?.int == 9)
            case .wecom:
                #expect(
                    json["msgtype"]?.string == "markdown"
                        && json["markdown"]?["content"]?.string?.contains("6 units") == true
                )
            case .dingtalk:
                #expect(
                    json["msgtype"]?.string == "markdown"
                        && json["markdown"]?["title"]?.string?.hasPrefix("[CRITICAL]") == true
                )
            case .feishu:
                #expect(
                    json["msg_type"]?.string == "interactive" && json["card"]?["header"]?["template"]?.string == "red"
                )
            }
        }
    }

    @Test func robotSignaturesFollowTheirPlatforms() throws {
        let now = Date(timeIntervalSince1970: 1_795_000_000.123)
        let ding = WebhookFormat.dingtalk.prepare(
            body: "{}",
            url: "https://oapi.dingtalk.com/robot/send?access_token=T",
            secret: "SECx",
            now: now,
            deliveryID: 1,
            event: "e"
        )
        let query = try #require(URLComponents(string: ding.url)?.queryItems)
        let timestamp = try #require(query.first { $0.name == "timestamp" }?.value)
        #expect(timestamp == "1795000000123")
        let expected = Data(Self.hmac(key: "SECx", "\(timestamp)\nSECx")).base64EncodedString()
        #expect(query.first { $0.name == "sign" }?.value == expected)
        #expect(ding.url.hasPrefix("https://oapi.dingtalk.com/robot/send?access_token=T&timestamp="))

        let feishu = WebhookFormat.feishu.prepare(
            body: #"{"msg_type":"text"}"#,
            url: "https://f.example/hook",
            secret: "fs",
            now: now,
            deliveryID: 1,
            event: "e"
        )
        let json = try JSONValue.parse(feishu.body)
        #expect(json["timestamp"]?.string == "1795000000" && json["msg_type"]?.string == "text")
        #expect(json["sign"]?.string == Data(Self.hmac(key: "1795000000\nfs", "")).base64EncodedString())

        #expect(WebhookFormat.wecom.accepted(responseBody: Array(#"{"errcode":0,"errmsg":"ok"}"#.utf8)).ok)
        #expect(
            !WebhookFormat.dingtalk.accepted(responseBody: Array(#"{"errcode":310000,"errmsg":"sign not match"}"#.utf8))
                .ok
        )
        #expect(!WebhookFormat.feishu.accepted(responseBody: Array("<html>".utf8)).ok)
        #expect(
            WebhookConfiguration(baseDelay: .seconds(2), maximumDelay: .seconds(60)).delay(afterAttempt: 1)
                == .seconds(2)
        )
        #expect(
            WebhookConfiguration(baseDelay: .seconds(2), maximumDelay: .seconds(60)).delay(afterAttempt: 4)
                == .seconds(16)
        )
        #expect(
            WebhookConfiguration(baseDelay: .seconds(2), maximumDelay: .seconds(60)).delay(afterAttempt: 9)
                == .seconds(60)
        )
    }
}

@Suite(.serialized) struct WebhookDeliveryTests {
    @Test(.database, .timeLimit(.minutes(3))) func deliveriesRetrySignDeadLetterAndReachTheChatRobots() async throws {
        let setup = try TestDatabase.require().connect()
        try setup.execute(APIFixture.setup)
        let admin = try APIFixture.adminToken(setup)
        let receiver = WebhookReceiver()
        receiver.fail("/flaky", times: 2)
        receiver.fail("/down", times: -1)
        try await receiver.run { port in
            try await APIHarness.run { api, ports, connection in
                let officer = try await api.token(admin: admin, username: "officer", role: "compliance")
                var subscriptions: [String: Int64] = [:]
                for (name, format, secret, attempts) in [
                    ("flaky", "generic", "s3cret", 8), ("down", "generic", "s3cret", 3), ("wecom", "wecom", "", 8),
                    ("dingtalk", "dingtalk", "SECding", 8), ("feishu", "feishu", "fsecret", 8),
                    ("robot-refuses", "dingtalk", "", 2),
                ] {
                    let created = try await api.post(
                        "/v1/webhooks",
                        token: officer,
                        """
                        {"name":"\(name)","url":"http://127.0.0.1:\(port)/\(name)","format":"\(format)","secret":"\(secret)",
                         "rules":["out_of_territory"],"max_attempts":\(attempts)}
                        """
                    )
                    try #require(created.status == 201, "\(created.text)")
                    subscriptions[name] = created.json["id"]?.int64
                }
                let invalid = try await api.post(
                    "/v1/webhooks",
                    token: officer,
                    #"{"name":"x","url":"ftp://x","format":"generic"}"#
                )
                #expect(invalid.status == 400 && invalid.json["error"]?["parameter"]?.string == "url")

                try APIHarness.send(
                    (1...3).map { APIFixture.inspect("SZ00\($0)", in: "110105", at: "2026-11-20T02:00:0\($0)Z") },
                    udp: ports.udp
                )
                try await APIHarness.waitForAlerts(3, connection)
                let incident = try #require(Int64(try connection.execute("SELECT id FROM incidents")[0][0] ?? ""))

                func deliveries(_ name: String, status: String? = nil) async throws -> [JSONValue] {
                    let query = status.map { "?status=\($0)" } ?? ""
                    return try await api.get("/v1/webhooks/\(subscriptions[name]!)/deliveries\(query)", token: officer)
                        .json["items"]!.array
                }
                func settled() async throws -> Bool {
                    for name in subscriptions.keys {
                        let states = try await deliveries(name).map { $0["status"]?.string }
                        if states.isEmpty || states.contains("pending") { return false }
                    }
                    return true
                }
                let deadline = ContinuousClock.now + .seconds(30)
                while try await !settled(), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }

                // Failed twice, then delivered: three signed attempts with the same delivery id and body.
                let flaky = try await deliveries("flaky")
                #expect(
                    flaky.count == 1 && flaky.first?["status"]?.string == "delivered"
                        && flaky.first?["attempts"]?.int == 3
                )
                let attempts = receiver.requests("/flaky")
                #expect(attempts.count == 3)
                for attempt in attempts {
                    let header = try #require(attempt.headers["x-channelguard-signature"])
                    let now = Int64(Date().timeIntervalSince1970)
                    #expect(
                        WebhookSignature.verify(
                            header: header,
                            body: Array(attempt.body.utf8),
                            secret: "s3cret",
                            now: now
                        )
                    )
                    #expect(attempt.headers["x-channelguard-delivery"] == flaky.first?["id"]?.int64.map { "\($0)" })
                    #expect(attempt.body == attempts[0].body)
                }
                let generic = try JSONValue.parse(attempts[0].body)
                #expect(generic["event"]?.string == "incident.opened" && generic["incident"]?["id"]?.int64 == incident)
                #expect(generic["link"]?.string == "https://channelguard.example/v1/incidents/\(incident)")

                // Always failing: dead after its three attempts, listed, and queued again by hand.
                let dead = try await deliveries("down", status: "dead")
                #expect(dead.count == 1 && dead.first?["attempts"]?.int == 3 && dead.first?["last_status"]?.int == 500)
                #expect(receiver.requests("/down").count == 3)
                let refused = try await deliveries("robot-refuses", status: "dead")
                #expect(refused.first?["last_error"]?.string?.contains("310000") == true)
                let subscription = try await api.get("/v1/webhooks/\(subscriptions["down"]!)", token: officer)
                #expect(subscription.json["deliveries"]?["dead"]?.int == 1 && subscription.json["secret"] == nil)
                let retried = try await api.post(
                    "/v1/webhooks/\(subscriptions["down"]!)/deliveries/\(dead.first!["id"]!.int64!)/retry",
                    token: officer,
                    "{}"
                )
                #expect(
                    retried.status == 200 && retried.json["status"]?.string == "pending"
                        && retried.json["attempts"]?.int == 0
                )
                let again = ContinuousClock.now + .seconds(20)
                while receiver.requests("/down").count < 6, ContinuousClock.now < again {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(receiver.requests("/down").count == 6)

                // The chat robots: their formats, their signatures, the key facts and the link.
                let wecom = try #require(receiver.requests("/wecom").first)
                #expect(try JSONValue.parse(wecom.body)["msgtype"]?.string == "markdown")
                #expect(wecom.body.contains("DEALER-SZ") && wecom.body.contains("/v1/incidents/\(incident)"))
                let ding = try #require(receiver.requests("/dingtalk").first)
                let query = URLComponents(string: "http://x/?" + ding.query)?.queryItems ?? []
                let timestamp = try #require(query.first { $0.name == "timestamp" }?.value)
                let sign = Data(WebhookFormatTests.hmac(key: "SECding", "\(timestamp)\nSECding")).base64EncodedString()
                #expect(query.first { $0.name == "sign" }?.value == sign)
                let feishu = try JSONValue.parse(try #require(receiver.requests("/feishu").first).body)
                let seconds = try #require(feishu["timestamp"]?.string)
                #expect(
                    feishu["sign"]?.string
                        == Data(WebhookFormatTests.hmac(key: "\(seconds)\nfsecret", "")).base64EncodedString()
                )
                #expect(
                    feishu["card"]?["elements"]?[1]?["actions"]?[0]?["url"]?.string?.hasSuffix(
                        "/v1/incidents/\(incident)"
                    ) == true
                )

                // A status change is announced too.
                _ = try await api.post(
                    "/v1/incidents/\(incident)/transitions",
                    token: officer,
                    #"{"to":"investigating"}"#
                )
                let changed = ContinuousClock.now + .seconds(20)
                while receiver.requests("/wecom").count < 2, ContinuousClock.now < changed {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(
                    receiver.requests("/wecom").count == 2
                        && receiver.requests("/wecom")[1].body.contains("investigating")
                )

                // Only admins and compliance officers manage webhooks.
                let analyst = try await api.token(admin: admin, username: "analyst", role: "hq_analyst")
                #expect(try await api.get("/v1/webhooks", token: analyst).status == 403)
            }
        }
    }
}

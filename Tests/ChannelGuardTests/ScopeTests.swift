import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

/// Every role's scope, tried on every endpoint: a distributor account sees its own subtree only
/// (another subtree's resources are not found, naming another distributor is out of scope), the
/// read-only roles cannot write, and nothing answers without a valid token.
@Suite(.serialized) struct ScopeTests {
    @Test(.database, .timeLimit(.minutes(3))) func everyRoleIsHeldToItsScopeOnEveryEndpoint() async throws {
        let setup = try TestDatabase.require().connect()
        try setup.execute(APIFixture.setup)
        let admin = try APIFixture.adminToken(setup)
        let sz = try APIFixture.distributorID("DEALER-SZ", setup)
        let agentBJ = try APIFixture.distributorID("AGENT-BJ", setup)
        let dealerBJ = try APIFixture.distributorID("DEALER-BJ", setup)
        try await APIHarness.run { api, ports, connection in
            let beijing = try await api.token(
                admin: admin,
                username: "agent-bj",
                role: "distributor",
                distributor: agentBJ
            )
            let analyst = try await api.token(admin: admin, username: "analyst", role: "hq_analyst")
            let officer = try await api.token(admin: admin, username: "officer", role: "compliance")
            var lines = (1...6).map { APIFixture.inspect("SZ00\($0)", in: "110105", at: "2026-11-20T02:00:0\($0)Z") }
            lines += (1...4).map { APIFixture.inspect("BJ00\($0)", in: "440305", at: "2026-11-20T02:00:0\($0)Z") }
            try APIHarness.send(lines, udp: ports.udp)
            try await APIHarness.waitForAlerts(10, connection)
            func first(_ sql: String) throws -> Int64 { Int64(try connection.execute(sql)[0][0] ?? "") ?? 0 }
            let szAlert = try first("SELECT id FROM alerts WHERE distributor_id = \(sz) LIMIT 1")
            let bjAlert = try first("SELECT id FROM alerts WHERE distributor_id = \(dealerBJ) LIMIT 1")
            let szIncident = try first("SELECT id FROM incidents WHERE distributor_id = \(sz)")
            let bjIncident = try first("SELECT id FROM incidents WHERE distributor_id = \(dealerBJ)")
            let hook = try await api.post(
                "/v1/webhooks",
                token: officer,
                #"{"name":"ops","url":"http://127.0.0.1:9/hook","format":"generic"}"#
            )
            let hookID = try #require(hook.json["id"]?.int64)

            // Reads: only the Beijing subtree.
            #expect(try await api.get("/v1/me", token: beijing).json["distributor_id"]?.int64 == agentBJ)
            let alerts = try await api.get("/v1/alerts", token: beijing).json["items"]!.array
            #expect(alerts.count == 4 && alerts.allSatisfy { $0["distributor"]?["code"]?.string == "DEALER-BJ" })
            #expect(try await api.get("/v1/alerts/\(bjAlert)", token: beijing).status == 200)
            #expect(try await api.get("/v1/alerts/\(szAlert)", token: beijing).errorCode == "not_found")
            let incidents = try await api.get("/v1/incidents", token: beijing).json["items"]!.array
            #expect(incidents.compactMap { $0["id"]?.int64 } == [bjIncident])
            for path in ["", "/alerts", "/events"] {
                #expect(
                    try await api.get("/v1/incidents/\(szIncident)\(path)", token: beijing).errorCode == "not_found"
                )
                #expect(try await api.get("/v1/incidents/\(bjIncident)\(path)", token: beijing).status == 200)
            }
            let audit = try await api.get("/v1/audits/territory?from=2026-11-01&to=2026-11-30", token: beijing).json
            #expect(audit["totals"]?["diverted_units"]?.int == 4)
            #expect(audit["top_diverters"]!.array.allSatisfy { $0["distributor"]?["code"]?.string == "DEALER-BJ" })
            let streamed = try await SSEClient.open(
                port: ports.http,
                path: "/v1/alerts/stream",
                token: beijing,
                lastEventID: 0
            )
            #expect(
                Set(try await streamed.alerts(4, seconds: 10).compactMap(\.id))
                    == Set(alerts.compactMap { $0["id"]?.int64.map { "\($0)" } })
            )

            // Naming another subtree is out of scope, on every endpoint that takes a distributor.
            for path in [
                "/v1/alerts?distributor=\(sz)", "/v1/alerts/stream?distributor=\(sz)",
                "/v1/alerts/ws?distributor=\(sz)",
                "/v1/incidents?distributor=\(sz)", "/v1/audits/territory?distributor=\(sz)",
            ] {
                let refused = try await api.get(path, token: beijing)
                #expect(refused.status == 403 && refused.errorCode == "out_of_scope", "\(path)")
            }
            #expect(try await api.get("/v1/alerts?distributor=\(dealerBJ)", token: beijing).status == 200)

            // Writes and administration: refused for the distributor and the analyst alike.
            let writes: [(String, String)] = [
                ("/v1/incidents/\(bjIncident)/transitions", #"{"to":"investigating"}"#),
                ("/v1/incidents/\(bjIncident)/assignment", #"{"account_id":null}"#),
                ("/v1/incidents/\(bjIncident)/comments", #"{"comment":"mine"}"#),
                ("/v1/webhooks", #"{"name":"x","url":"http://127.0.0.1:9/","format":"generic"}"#),
                ("/v1/webhooks/\(hookID)/deliveries/1/retry", "{}"),
                ("/v1/tokens", #"{"username":"sneaky","role":"admin"}"#),
            ]
            for token in [beijing, analyst] {
                for (path, body) in writes {
                    let refused = try await api.post(path, token: token, body)
                    #expect(refused.status == 403 && refused.errorCode == "forbidden", "\(path)")
                }
                for path in ["/v1/webhooks", "/v1/webhooks/\(hookID)", "/v1/webhooks/\(hookID)/deliveries"] {
                    #expect(try await api.get(path, token: token).errorCode == "forbidden", "\(path)")
                }
                #expect(try await api.call(.DELETE, "/v1/webhooks/\(hookID)", token: token).status == 403)
            }
            // The analyst reads everything.
            #expect(try await api.get("/v1/alerts", token: analyst).json["items"]!.array.count == 10)
            #expect(try await api.get("/v1/alerts/\(szAlert)", token: analyst).status == 200)

            // No token, or a bad one: nothing.
            for path in [
                "/v1/me", "/v1/alerts", "/v1/alerts/stream", "/v1/incidents", "/v1/webhooks", "/v1/audits/territory",
            ] {
                #expect(try await api.get(path, token: nil).errorCode == "unauthenticated", "\(path)")
                let forged = try await api.get(path, token: "cgt_" + String(repeating: "a", count: 40))
                #expect(forged.status == 401 && forged.headers.first(name: "www-authenticate") != nil, "\(path)")
            }
            // Every refusal is counted by its code.
            let metrics = try await api.get("/metrics", token: nil).text
            for code in ["unauthenticated", "forbidden", "out_of_scope", "not_found"] {
                let line = metrics.split(separator: "\n").first {
                    $0.hasPrefix("channelguard_api_rejections_total{code=\"\(code)\"}")
                }
                #expect((line?.split(separator: " ").last.flatMap { Int($0) } ?? 0) > 0, "\(code) not counted")
            }
            // Admins list tokens (by prefix, never the token) and revoke them, effective at once.
            #expect(try await api.get("/v1/tokens", token: analyst).errorCode == "forbidden")
            #expect(try await api.get("/v1/me", token: analyst).status == 200)
            let tokens = try await api.get("/v1/tokens", token: admin).json["items"]!.array
            #expect(tokens.count == 4 && !tokens.contains { $0["token"] != nil })
            let analystToken = try #require(tokens.first { $0["account"]?["username"]?.string == "analyst" })
            #expect(analystToken["prefix"]?.string == String(analyst.prefix(8)) && analystToken["last_used_at"] != nil)
            let tokenID = try #require(analystToken["id"]?.int64)
            #expect(try await api.call(.DELETE, "/v1/tokens/\(tokenID)", token: beijing).status == 403)
            #expect(try await api.call(.DELETE, "/v1/tokens/\(tokenID)", token: admin).status == 204)
            #expect(try await api.get("/v1/me", token: analyst).status == 401)
            #expect(try await api.call(.DELETE, "/v1/tokens/999999", token: admin).errorCode == "not_found")
            #expect(
                try connection.execute("SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = \(tokenID)")[0][0]
                    == "t"
            )
        }
    }
}

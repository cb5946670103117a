import ChannelGuardHTTP
import ChannelGuardStore
import ChannelGuardTestSupport
import Foundation
import Testing

/// Incidents: the workflow as a pure state machine, and alerts of a known event set rolled up by
/// distributor × rule × destination city × day, worked through the API with an audit trail.
@Suite struct IncidentWorkflowTests {
    typealias Workflow = IncidentWorkflow

    @Test func everyStepIsAllowedOrRefusedWithAReason() {
        #expect(Workflow.next(.open) == [.investigating, .dismissed])
        #expect(Workflow.next(.confirmed).isEmpty)
        #expect(
            Workflow.transition(from: .open, to: .investigating, penalty: nil, reason: nil)
                == .success(.init(from: .open, to: .investigating, penalty: nil, dismissalReason: nil))
        )
        #expect(
            Workflow.transition(from: .open, to: .confirmed, penalty: "10", reason: nil)
                == .failure(.notAllowed(from: .open, to: .confirmed))
        )
        #expect(
            Workflow.transition(from: .investigating, to: .confirmed, penalty: nil, reason: nil)
                == .failure(.penaltyRequired)
        )
        #expect(
            Workflow.transition(from: .investigating, to: .confirmed, penalty: "-5", reason: nil)
                == .failure(.penaltyInvalid("-5"))
        )
        #expect(
            Workflow.transition(from: .investigating, to: .confirmed, penalty: "1.234", reason: nil)
                == .failure(.penaltyInvalid("1.234"))
        )
        #expect(
            Workflow.transition(from: .investigating, to: .confirmed, penalty: "5000.50", reason: nil)
                == .success(.init(from: .investigating, to: .confirmed, penalty: "5000.50", dismissalReason: nil))
        )
        #expect(
            Workflow.transition(from: .investigating, to: .dismissed, penalty: nil, reason: "  ")
                == .failure(.reasonRequired)
        )
        #expect(
            Workflow.transition(from: .open, to: .dismissed, penalty: nil, reason: " approved transfer ")
                == .success(.init(from: .open, to: .dismissed, penalty: nil, dismissalReason: "approved transfer"))
        )
        #expect(
            Workflow.transition(from: .dismissed, to: .open, penalty: "1", reason: nil)
                == .failure(.unexpected(field: "penalty_amount"))
        )
        #expect(
            Workflow.transition(from: .confirmed, to: .open, penalty: nil, reason: nil)
                == .failure(.notAllowed(from: .confirmed, to: .open))
        )
        // Every refusal names the field at fault.
        for status in Workflow.Status.allCases {
            for target in Workflow.Status.allCases {
                if case .failure(let refusal) = Workflow.transition(from: status, to: target, penalty: nil, reason: nil)
                {
                    #expect(refusal.field != nil && !refusal.message.isEmpty)
                }
            }
        }
    }
}

@Suite(.serialized) struct IncidentAPITests {
    /// Day 1 (2026-11-20, China time): SZ001–SZ006 inspected in Beijing, SZ001 again an hour
    /// later; SZ007–SZ008 in Shanghai. Day 2: SZ009 in Beijing. Three incidents.
    static let events = [
        APIFixture.inspect("SZ001", in: "110105", at: "2026-11-20T02:00:00Z"),
        APIFixture.inspect("SZ002", in: "110105", at: "2026-11-20T02:00:01Z"),
        APIFixture.inspect("SZ003", in: "110105", at: "2026-11-20T02:00:02Z"),
        APIFixture.inspect("SZ004", in: "110102", at: "2026-11-20T02:00:03Z"),
        APIFixture.inspect("SZ005", in: "110105", at: "2026-11-20T02:00:04Z"),
        APIFixture.inspect("SZ006", in: "110105", at: "2026-11-20T02:00:05Z"),
        APIFixture.inspect("SZ001", in: "110105", at: "2026-11-20T03:00:00Z"),
        APIFixture.inspect("SZ007", in: "310101", at: "2026-11-20T02:00:00Z"),
        APIFixture.inspect("SZ008", in: "310104", at: "2026-11-20T02:00:01Z"),
        APIFixture.inspect("SZ009", in: "110105", at: "2026-11-21T02:00:00Z"),
    ]

    @Test(.database, .timeLimit(.minutes(3))) func alertsRollUpIntoIncidentsThatAreWorkedWithAnAuditTrail() async throws
    {
        let setup = try TestDatabase.require().connect()
        try setup.execute(APIFixture.setup)
        let admin = try APIFixture.adminToken(setup)
        try await APIHarness.run { api, ports, connection in
            let officer = try await api.token(admin: admin, username: "officer", role: "compliance")
            let analyst = try await api.token(admin: admin, username: "analyst", role: "hq_analyst")
            // Sent in two datagrams so the alerts of one incident arrive in different flushes.
            try APIHarness.send(Array(Self.events[0..<4]), udp: ports.udp)
            try await APIHarness.waitForAlerts(4, connection)
            try APIHarness.send(Array(Self.events[4...]), udp: ports.udp)
            try await APIHarness.waitForAlerts(10, connection)

            let list = try await api.get("/v1/incidents?rule=out_of_territory", token: analyst)
            try #require(list.status == 200)
            let incidents = list.json["items"]!.array
            let summary = incidents.map {
                "\($0["destination_region"]?["code"]?.string ?? "") \($0["window_start"]?.string ?? "") "
                    + "units=\($0["units"]?.int ?? -1) alerts=\($0["alert_count"]?.int ?? -1) "
                    + "value=\($0["estimated_value"]?.string ?? "") \($0["severity"]?.string ?? "")"
            }
            #expect(
                Set(summary) == [
                    "110100 2026-11-19T16:00:00.000Z units=6 alerts=7 value=4800.00 critical",
                    "310100 2026-11-19T16:00:00.000Z units=2 alerts=2 value=1600.00 critical",
                    "110100 2026-11-20T16:00:00.000Z units=1 alerts=1 value=800.00 critical",
                ]
            )
            let beijing = try #require(incidents.first { $0["units"]?.int == 6 })
            let id = try #require(beijing["id"]?.int64)
            #expect(beijing["first_seen"]?.string == "2026-11-20T02:00:00.000Z")
            #expect(beijing["last_seen"]?.string == "2026-11-20T03:00:00.000Z")
            #expect(beijing["distributor"]?["code"]?.string == "DEALER-SZ" && beijing["status"]?.string == "open")
            // Every alert is linked to its incident, and the incident lists them.
            let linked = try await api.get("/v1/incidents/\(id)/alerts", token: analyst)
            #expect(linked.json["items"]!.array.count == 7)
            #expect(try connection.execute("SELECT count(*) FROM alerts WHERE incident_id IS NULL")[0][0] == "0")

            // Pagination walks the list without repeats.
            let page1 = try await api.get("/v1/incidents?limit=2", token: analyst)
            let cursor = try #require(page1.json["next_cursor"]?.string)
            let page2 = try await api.get("/v1/incidents?limit=2&cursor=\(cursor)", token: analyst)
            let ids = (page1.json["items"]!.array + page2.json["items"]!.array).compactMap { $0["id"]?.int64 }
            #expect(ids.count == 3 && Set(ids).count == 3 && page2.json["next_cursor"] == .null)

            // The workflow, with its refusals.
            let path = "/v1/incidents/\(id)"
            #expect(try await api.post(path + "/transitions", token: analyst, #"{"to":"investigating"}"#).status == 403)
            let early = try await api.post(
                path + "/transitions",
                token: officer,
                #"{"to":"confirmed","penalty_amount":"1"}"#
            )
            #expect(early.status == 409 && early.errorCode == "invalid_transition")
            let investigating = try await api.post(
                path + "/transitions",
                token: officer,
                #"{"to":"investigating","comment":"calling the dealer"}"#
            )
            #expect(investigating.status == 200 && investigating.json["status"]?.string == "investigating")
            let noPenalty = try await api.post(path + "/transitions", token: officer, #"{"to":"confirmed"}"#)
            #expect(noPenalty.status == 400 && noPenalty.json["error"]?["parameter"]?.string == "penalty_amount")
            let badBody = try await api.post(path + "/transitions", token: officer, #"{"to":7}"#)
            #expect(badBody.status == 400 && badBody.errorCode == "invalid_body")
            let me = try await api.get("/v1/me", token: officer)
            let officerID = try #require(me.json["account_id"]?.int64)
            let assigned = try await api.post(path + "/assignment", token: officer, "{\"account_id\":\(officerID)}")
            #expect(assigned.json["assignee"]?["username"]?.string == "officer")
            let wrongAssignee = try await api.post(
                path + "/assignment",
                token: officer,
                "{\"account_id\":\(try #require(try await api.get("/v1/me", token: analyst).json["account_id"]?.int64))}"
            )
            #expect(wrongAssignee.status == 400)
            #expect(
                try await api.post(path + "/comments", token: officer, #"{"comment":"invoice found"}"#).status == 204
            )
            let confirmed = try await api.post(
                path + "/transitions",
                token: officer,
                #"{"to":"confirmed","penalty_amount":"5000.00"}"#
            )
            #expect(
                confirmed.json["status"]?.string == "confirmed" && confirmed.json["penalty_amount"]?.string == "5000.00"
            )
            #expect(try await api.post(path + "/transitions", token: officer, #"{"to":"open"}"#).status == 409)

            // The audit trail: who, when, what.
            let trail = try await api.get(path + "/events", token: analyst).json["items"]!.array
            let steps = trail.map {
                [
                    $0["action"]?.string ?? "", $0["account"]?["username"]?.string ?? "system",
                    $0["to_status"]?.string ?? "", $0["comment"]?.string ?? "",
                ]
                .joined(separator: " ").trimmingCharacters(in: .whitespaces)
            }
            #expect(
                steps == [
                    "created system open", "status_changed officer investigating calling the dealer",
                    "assigned officer",
                    "commented officer  invoice found", "status_changed officer confirmed",
                ]
            )
            #expect(trail.allSatisfy { $0["at"]?.string?.hasSuffix("Z") == true })
            #expect(trail.last?["details"]?["penalty_amount"]?.string == "5000.00")

            let missing = try await api.get("/v1/incidents/999999", token: analyst)
            #expect(missing.status == 404 && missing.errorCode == "not_found")
            let unknownParameter = try await api.get("/v1/incidents?stauts=open", token: analyst)
            #expect(unknownParameter.status == 400 && unknownParameter.json["error"]?["parameter"]?.string == "stauts")
        }
    }
}

import ChannelGuardCodes
import ChannelGuardDetection
import ChannelGuardIngest
import ChannelGuardLoad
import ChannelGuardTestSupport
import Foundation
import Testing

/// Who may send what: a gateway ships only units its owner holds (or holds downstream), only HQ's
/// gateways bind units bound to no one, and each kind sends only its steps. Pure verdicts first,
/// then the daemon refusing a rebind over loopback.
@Suite(.database, .serialized) struct GatewayAuthorityTests {
    static let hq: Int64 = 1
    static let agent: Int64 = 2
    static let dealer: Int64 = 7
    static let other: Int64 = 9
    static let reference = ReferenceData(parents: [agent: hq, dealer: agent, other: hq])

    func verdict(_ step: ScanStep, _ kind: GatewayKind, owner: Int64, holder: Int64?) -> AlertRule? {
        let gateway = ReferenceData.Gateway(id: 3, secret: [], owner: owner, kind: kind)
        return ScanRules().authorise(step, gateway: gateway, holder: holder, reference: Self.reference)?.rule
    }

    @Test func aGatewayShipsWhatItsOwnerHoldsOrHoldsDownstream() {
        #expect(verdict(.ship, .warehousePDA, owner: Self.dealer, holder: Self.dealer) == nil)
        #expect(verdict(.ship, .warehousePDA, owner: Self.agent, holder: Self.dealer) == nil)  // its dealer's
        #expect(verdict(.ship, .warehousePDA, owner: Self.hq, holder: Self.dealer) == nil)
        // A sibling, or a dealer shipping its upstream's unit: refused.
        #expect(verdict(.ship, .warehousePDA, owner: Self.other, holder: Self.dealer) == .unauthorisedBinding)
        #expect(verdict(.ship, .warehousePDA, owner: Self.dealer, holder: Self.agent) == .unauthorisedBinding)
        // A unit bound to no one: HQ only.
        #expect(verdict(.ship, .warehousePDA, owner: Self.hq, holder: nil) == nil)
        #expect(verdict(.ship, .warehousePDA, owner: Self.agent, holder: nil) == .unauthorisedBinding)
    }

    @Test func eachKindSendsItsOwnSteps() {
        for kind in GatewayKind.allCases {
            for step in ScanStep.allCases where step != .ship {
                let expected: AlertRule? = kind.steps.allows(step) ? nil : .unauthorisedBinding
                #expect(verdict(step, kind, owner: Self.dealer, holder: Self.dealer) == expected, "\(kind) \(step)")
            }
        }
        #expect(verdict(.ship, .storePOS, owner: Self.hq, holder: nil) == .unauthorisedBinding)
        #expect(verdict(.sell, .storePOS, owner: Self.dealer, holder: Self.dealer) == nil)
        #expect(verdict(.activate, .consumerBackend, owner: Self.hq, holder: Self.dealer) == nil)
        // A gateway with steps of its own.
        let bridge = ReferenceData.Gateway(id: 4, secret: [], owner: Self.hq, kind: .inspectorApp, steps: .all)
        #expect(ScanRules().authorise(.sell, gateway: bridge, holder: nil, reference: Self.reference) == nil)
        // Open mode (no gateway) is not checked.
        #expect(ScanRules().authorise(.ship, gateway: nil, holder: Self.dealer, reference: Self.reference) == nil)
    }

    static let gateways = """
        INSERT INTO gateways (id, code, name, kind, secret, owner_distributor_id)
            SELECT g, 'GW' || g, 'Gateway ' || g, k, '\\x000102030405060708090a0b0c0d0e0f', d.id
            FROM (VALUES (21, 'warehouse_pda', 'BEIJING'), (22, 'warehouse_pda', 'AGENT'),
                         (23, 'store_pos', 'DEALER'), (24, 'warehouse_pda', 'DEALER'),
                         (25, 'warehouse_pda', 'HQ'), (26, 'store_pos', 'DEALER')) AS v(g, k, owner)
            JOIN distributors d ON d.code = v.owner;
        """

    @Test func theDaemonRefusesWhatAGatewayMayNotSend() async throws {
        let connection = try TestDatabase.require().connect()
        try connection.execute(InChunkDetectionTests.setup)
        try connection.execute(Self.gateways)
        func line(_ text: String) -> String {
            "\(text.split(separator: " ")[0]) 440305 2026-11-23T12:00:00Z (01)\(InChunkDetectionTests.gtin)(21)"
                + text.split(separator: " ").dropFirst().joined(separator: " ")
        }
        // (gateway, scans): a diverter's PDA in Beijing takes the dealer's unit; the agent moves its
        // dealer's unit to the Beijing dealer (allowed); a store POS tries to ship; the dealer's PDA
        // binds a unit bound to no one; HQ's PDA binds a new one (allowed); a store POS sells.
        let frames: [(UInt32, String)] = [
            (21, line("ship SN050 party=BEIJING")),
            (22, line("ship SN051 party=BEIJING")),
            (23, line("ship SN052 party=DEALER")),
            (24, line("ship FRESH1 party=DEALER")),
            (25, line("ship FRESH2 party=DEALER")),
            (26, line("sell SN053 price=1999.00")),
        ]
        try await IngestHarness.run(url: try TestDatabase.require().url) { tcp, _, service in
            let socket = try ClientSocket(host: "127.0.0.1", port: tcp, transport: .tcp)
            for (gateway, text) in frames {
                try socket.send(try IngestEndToEndTests.frame(text, sequence: 1, gateway: gateway))
                #expect(try IngestEndToEndTests.acknowledgement(socket).kind == .durable)
            }
            // Then the units are scanned where their rightful owners sell.
            let after = [
                "sell 440305 2026-11-23T13:00:00Z (01)\(InChunkDetectionTests.gtin)(21)SN050 price=1999.00",
                "sell 110105 2026-11-23T13:00:01Z (01)\(InChunkDetectionTests.gtin)(21)SN051 price=1999.00",
                "inspect 440305 2026-11-23T13:00:02Z (01)\(InChunkDetectionTests.gtin)(21)FRESH1",
                "inspect 440305 2026-11-23T13:00:03Z (01)\(InChunkDetectionTests.gtin)(21)FRESH2",
            ].joined(separator: "\n")
            try socket.send(try IngestEndToEndTests.frame(after, sequence: 2, gateway: 26))
            #expect(try IngestEndToEndTests.acknowledgement(socket) == .durable(through: 2))
            #expect(service.stats.rejected.snapshot["unauthorised_binding"] == 3)
        }
        #expect(
            try InChunkDetectionTests.alerts(["SN050", "SN051", "SN052", "FRESH1", "FRESH2", "SN053"])
                == [
                    // The refusals, and the unit the dealer's PDA tried to bind stays unknown.
                    "unauthorised_binding FRESH1", "unauthorised_binding SN050", "unauthorised_binding SN052",
                    "unknown_code FRESH1",
                ]
        )
        let refused = try connection.execute(
            "SELECT gateway_id, distributor_id IS NOT NULL FROM alerts WHERE rule = 'unauthorised_binding' ORDER BY gateway_id"
        ).map { "\($0[0]!) \($0[1]!)" }
        #expect(refused == ["21 t", "23 t", "24 f"])
    }
}

import ChannelGuardDetection
import Testing

@testable import ChannelGuardIngest

/// The party memo answers as the distributors' table does, whatever the order of parties and
/// whenever the reference data changes.
@Suite struct PartyMemoTests {
    func lookUp(_ memo: inout PartyMemo, _ party: String, _ data: ReferenceData) -> Int64? {
        let bytes = Array(party.utf8)
        return bytes.withUnsafeBufferPointer { memo.distributor(named: $0, in: data) }
    }

    @Test func answersAsTheTableDoes() {
        let data = ReferenceData(distributorIDs: ["0690000000017": 11, "0690000000024": 12, "D-3": 13])
        var memo = PartyMemo()
        let parties = [
            "0690000000017", "0690000000017", "0690000000024", "unknown", "unknown", "0690000000017", "D-3",
            "D-", "D-3", "0690000000024", "", "0690000000017",
        ]
        for party in parties {
            #expect(lookUp(&memo, party, data) == data.distributorIDs[party], "\(party)")
        }
    }

    @Test func newReferenceDataIsReadAfresh() {
        let before = ReferenceData(distributorIDs: ["0690000000017": 11])
        let after = ReferenceData(distributorIDs: ["0690000000017": 21, "0690000000024": 22])
        let gone = ReferenceData(distributorIDs: [:])
        var memo = PartyMemo()
        #expect(lookUp(&memo, "0690000000017", before) == 11)
        #expect(lookUp(&memo, "0690000000017", after) == 21)
        #expect(lookUp(&memo, "0690000000017", gone) == nil)
        #expect(lookUp(&memo, "0690000000017", after) == 21)
    }
}

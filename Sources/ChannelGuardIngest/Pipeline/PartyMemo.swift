import ChannelGuardDetection

/// The distributor the last scan's party named, kept by the party's bytes: the receive scans of a
/// distributor's gateway name that distributor one after another (the shard checks a gateway's
/// frames as one run), and each lookup built a `String` from the batch's text and hashed it. A
/// different party, or reference data that has changed since, is looked up afresh. (The load
/// tool's receive scans name the owners of random serials, so there it rarely hits.)
struct PartyMemo {
    private var data: ReferenceData?
    private var bytes: [UInt8] = []
    private var distributor: Int64?

    /// The distributor id `party` names in `data`'s distributors, if any.
    mutating func distributor(named party: UnsafeBufferPointer<UInt8>, in data: ReferenceData) -> Int64? {
        if self.data === data, bytes.elementsEqual(party) { return distributor }
        let id = data.distributorIDs[String(decoding: party, as: UTF8.self)]
        self.data = data
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: party)
        distributor = id
        return id
    }
}

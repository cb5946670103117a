import ChannelGuardTerritory

/// The territory grants of every distributor in two flat arrays, for the one question asked of
/// every downstream scan: is this region inside the owner's territory now?
///
/// An open-addressing table (linear probing, at most half full, a multiplicative hash) maps a
/// distributor id to its run of grants in one contiguous array. Asked through a
/// `[Int64: [Grant]]`, each scan hashed the id with SipHash and then loaded the header of that
/// distributor's own array, a heap object of its own: under the load generator's workload that
/// one load was most of the rules' time (`perf annotate`, docs/performance.md). Distributor ids
/// come from the database, not from a peer choosing keys, so a seedless hash is safe here.
@usableFromInline
struct GrantTable: Sendable {
    @usableFromInline
    struct Slot: Sendable {
        /// The distributor id; `0` marks an empty slot (id 0, if ever used, has ``zero``).
        @usableFromInline var distributor: Int64
        @usableFromInline var start: Int32
        @usableFromInline var count: Int32
    }

    /// One grant, without optionals: `to` is `Int64.max` when open-ended.
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var from: Int64
        @usableFromInline var to: Int64
        @usableFromInline var region: RegionCode
    }

    @usableFromInline let slots: [Slot]
    @usableFromInline let entries: [Entry]
    /// The grants of distributor id 0, which cannot have a slot.
    @usableFromInline let zero: Slot

    init(_ grants: [Int64: [ReferenceData.Grant]]) {
        var capacity = 16
        while capacity < grants.count * 2 { capacity <<= 1 }
        var slots = [Slot](repeating: Slot(distributor: 0, start: 0, count: 0), count: capacity)
        var entries: [Entry] = []
        entries.reserveCapacity(grants.values.reduce(0) { $0 + $1.count })
        var zero = Slot(distributor: 0, start: 0, count: 0)
        for (distributor, list) in grants where !list.isEmpty {
            defer {
                for grant in list {
                    entries.append(Entry(from: grant.from, to: grant.to ?? .max, region: grant.region))
                }
            }
            guard distributor != 0 else {
                zero = Slot(distributor: 0, start: Int32(entries.count), count: Int32(list.count))
                continue
            }
            var index = Self.hash(distributor) & (capacity - 1)
            while slots[index].distributor != 0 { index = (index + 1) & (capacity - 1) }
            slots[index] = Slot(distributor: distributor, start: Int32(entries.count), count: Int32(list.count))
        }
        self.zero = zero
        self.slots = slots
        self.entries = entries
    }

    @inlinable @inline(__always)
    static func hash(_ distributor: Int64) -> Int {
        let h = UInt64(bitPattern: distributor) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: h ^ h >> 29)
    }

    /// Whether `region` lies inside a grant of `distributor` in force at `time`.
    @inlinable @inline(__always)
    func isInside(_ region: RegionCode, distributor: Int64, at time: Int64) -> Bool {
        guard distributor != 0 else { return isInside(region, zero, at: time) }
        let mask = slots.count - 1
        var index = Self.hash(distributor) & mask
        while true {
            let slot = slots[index]
            if slot.distributor == distributor { return isInside(region, slot, at: time) }
            if slot.distributor == 0 { return false }
            index = (index + 1) & mask
        }
    }

    @inlinable @inline(__always)
    func isInside(_ region: RegionCode, _ slot: Slot, at time: Int64) -> Bool {
        let start = Int(slot.start)
        for entry in entries[start..<(start + Int(slot.count))]
        where time >= entry.from && time < entry.to && entry.region.contains(region) {
            return true
        }
        return false
    }
}

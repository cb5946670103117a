import CChannelGuardSupport
import ChannelGuardCodes

/// Rollup cells and their counts: the per-event tally of a flush job and the merge of a fold.
///
/// An open-addressing table (linear probing, at most half full) with a multiply-and-fold hash of
/// the key's words. Under the load generator's workload nearly every event is a cell of its own, so
/// this is one insert per event in the shards and one per stored cell in the fold — about a million
/// a second each at 1 M events/s. A `Dictionary` hashes each key with SipHash through `Hasher` and
/// cost 12 % of the shards' time (`perf record`); the cells come from the daemon's own scans, not
/// from a peer who could choose keys to collide, so a seedless hash is safe here.
public struct RollupCells: Sendable, Sequence {
    struct Slot: Sendable {
        var key: RollupKey
        var scans: Int64
        var used: Bool
    }

    /// One array of slots: a probe reads one cache line, not three.
    private var slots: [Slot]
    /// Cells in the table.
    public private(set) var count = 0

    public init(minimumCapacity: Int = 0) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity <<= 1 }
        slots = Array(repeating: Slot(key: .empty, scans: 0, used: false), count: capacity)
    }

    /// The cells of a dictionary (tools and tests).
    public init(_ cells: [RollupKey: Int64]) {
        self.init(minimumCapacity: cells.count)
        for (key, scans) in cells { add(key, scans) }
    }

    public var isEmpty: Bool { count == 0 }

    /// The cells as a dictionary (tools and tests).
    public var dictionary: [RollupKey: Int64] {
        var out: [RollupKey: Int64] = [:]
        out.reserveCapacity(count)
        for (key, scans) in self { out[key] = scans }
        return out
    }

    /// Adds `amount` scans to the cell `key` (creating it).
    @inline(__always)
    public mutating func add(_ key: RollupKey, _ amount: Int64) {
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var index = Self.hash(key) & mask
        slots.withUnsafeMutableBufferPointer { slots in
            while slots[index].used {
                if slots[index].key == key {
                    slots[index].scans += amount
                    return
                }
                index = (index + 1) & mask
            }
            slots[index] = Slot(key: key, scans: amount, used: true)
            count += 1
        }
    }

    /// Adds one scan to the cell of each of `keys`, in groups: each group's slots are found and
    /// prefetched before any is read, so that the group's cache misses overlap instead of following
    /// one another. At tens of thousands of cells a batch the table outgrows the core's L2 cache,
    /// and one key at a time every event waited for its slot (docs/performance.md).
    public mutating func addOne(each keys: UnsafeBufferPointer<RollupKey>) {
        add(count: keys.count, key: { keys[$0] }, amount: { _ in 1 })
    }

    /// Adds `amounts[i]` scans to the cell `keys[i]` for each `i`, in prefetched groups as
    /// ``addOne(each:)`` does (a fold's merge of stored deltas).
    public mutating func add(_ keys: UnsafeBufferPointer<RollupKey>, amounts: UnsafeBufferPointer<Int64>) {
        precondition(amounts.count >= keys.count, "an amount for every key")
        add(count: keys.count, key: { keys[$0] }, amount: { amounts[$0] })
    }

    @inline(__always)
    private mutating func add(count total: Int, key: (Int) -> RollupKey, amount: (Int) -> Int64) {
        let group = Self.prefetchGroup
        var start = 0
        while start < total {
            let end = Swift.min(total, start + group)
            while (count + end - start) * 2 > slots.count { grow() }
            let mask = slots.count - 1
            withUnsafeTemporaryAllocation(of: Int.self, capacity: group) { homes in
                slots.withUnsafeMutableBufferPointer { slots in
                    let base = slots.baseAddress!
                    for offset in 0..<(end - start) {
                        let home = Self.hash(key(start + offset)) & mask
                        homes[offset] = home
                        // A slot may straddle two cache lines.
                        cg_prefetch(base + home)
                        cg_prefetch(UnsafeRawPointer(base + home) + MemoryLayout<Slot>.size - 1)
                    }
                    for offset in 0..<(end - start) {
                        let key = key(start + offset)
                        var index = homes[offset]
                        while slots[index].used && slots[index].key != key { index = (index + 1) & mask }
                        if slots[index].used {
                            slots[index].scans += amount(start + offset)
                        } else {
                            slots[index] = Slot(key: key, scans: amount(start + offset), used: true)
                            count += 1
                        }
                    }
                }
            }
            start = end
        }
    }

    /// Keys whose slots are prefetched together by ``addOne(each:)``.
    static let prefetchGroup = 16

    /// The count of a cell; 0 when it is not in the table.
    public subscript(key: RollupKey) -> Int64 {
        let mask = slots.count - 1
        var index = Self.hash(key) & mask
        while slots[index].used {
            if slots[index].key == key { return slots[index].scans }
            index = (index + 1) & mask
        }
        return 0
    }

    @inline(__always)
    static func hash(_ key: RollupKey) -> Int {
        var h = UInt64(bitPattern: key.hour) &* 0x9E37_79B9_7F4A_7C15
        h ^= UInt64(bitPattern: key.distributor) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= key.gtin &* 0x1656_67B1_9E37_79F9
        let rest = UInt64(key.city) << 8 | UInt64(BinaryFrame.stepCode(key.step)) << 1 | (key.inTerritory ? 1 : 0)
        h ^= rest &* 0x27D4_EB2F_1656_67C5
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    private mutating func grow() {
        var larger = RollupCells(minimumCapacity: slots.count)
        for (key, scans) in self { larger.add(key, scans) }
        self = larger
    }

    public func makeIterator() -> Iterator {
        Iterator(slots: slots)
    }

    /// The cells in table order: `(key, scans)`.
    public struct Iterator: IteratorProtocol {
        let slots: [Slot]
        var index = 0

        public mutating func next() -> (key: RollupKey, scans: Int64)? {
            while index < slots.count {
                defer { index += 1 }
                if slots[index].used { return (slots[index].key, slots[index].scans) }
            }
            return nil
        }
    }
}

extension RollupKey {
    /// A placeholder for empty slots.
    static let empty = RollupKey(hour: 0, distributor: 0, city: 0, gtin: 0, step: .ship, inTerritory: false)
}

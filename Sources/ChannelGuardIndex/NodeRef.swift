/// A 32-bit reference to a node or a leaf of a ``RadixTree``: half the size of a pointer, so child
/// arrays take half the memory.
///
/// - `0`: no child.
/// - bit 31 set: a leaf; bits 0–30 are its byte offset in the leaf arena.
/// - bit 31 clear: an inner node; bits 29–30 its kind (4, 16, 48, 256 children), bits 0–28 its slot in
///   that kind's arena (slot 0 is never used, so no node reference is 0).
struct NodeRef: Hashable {
    var raw: UInt32

    static let none = NodeRef(raw: 0)
    static let leafBit: UInt32 = 0x8000_0000
    static let maxLeafOffset = Int(0x7FFF_FFFF)
    static let maxSlot = Int(0x1FFF_FFFF)

    @inline(__always) init(raw: UInt32) { self.raw = raw }
    @inline(__always) init(leaf offset: Int) { raw = UInt32(truncatingIfNeeded: offset) | Self.leafBit }
    @inline(__always) init(kind: NodeKind, slot: Int) {
        raw = UInt32(kind.rawValue) << 29 | UInt32(truncatingIfNeeded: slot)
    }

    @inline(__always) var isNone: Bool { raw == 0 }
    @inline(__always) var isLeaf: Bool { raw & Self.leafBit != 0 }
    @inline(__always) var leafOffset: Int { Int(raw & 0x7FFF_FFFF) }
    /// The kind of an inner node (bits 29–30; bit 31 is clear, so the value is 0–3).
    @inline(__always) var kind: NodeKind { unsafeBitCast(UInt8(truncatingIfNeeded: raw >> 29) & 3, to: NodeKind.self) }
    @inline(__always) var kindIndex: Int { Int(raw >> 29) }
    @inline(__always) var slot: Int { Int(raw & 0x1FFF_FFFF) }
}

/// The four inner node kinds of an adaptive radix tree, and their layout in bytes.
///
/// Every node starts with a 4-byte header: child count (`UInt8`; a Node256 stores 256 as 0), prefix
/// length (`UInt8`) and up to ``RadixTree/inlinePrefix`` prefix bytes. A longer compressed path is a
/// chain of one-child Node4s. After the header:
/// - **Node4** (24 bytes): 4 key bytes, sorted; 4 children.
/// - **Node16** (84 bytes): 16 key bytes, sorted (compared with one vector compare); 16 children.
/// - **Node48** (228 bytes): a 256-bit map of present key bytes; up to 48 children in key order,
///   found by the rank of the key's bit. The paper's Node48 uses a 256-byte child index (464 bytes
///   with 4-byte children); the bitmap and rank give the same capacity in half the memory, which at
///   ten million random serials is about 5 bytes per serial.
/// - **Node256** (1028 bytes): 256 children indexed by the key byte.
enum NodeKind: UInt8, CaseIterable {
    case node4 = 0
    case node16 = 1
    case node48 = 2
    case node256 = 3

    var stride: Int {
        switch self {
        case .node4: 24
        case .node16: 84
        case .node48: 228
        case .node256: 1028
        }
    }

    /// Most children this kind holds.
    var capacity: Int {
        switch self {
        case .node4: 4
        case .node16: 16
        case .node48: 48
        case .node256: 256
        }
    }

    /// Offset of the children array.
    var childrenOffset: Int {
        switch self {
        case .node4: 8
        case .node16: 20
        case .node48: 36
        case .node256: 4
        }
    }

    /// The kind to grow into when full.
    var larger: NodeKind? { NodeKind(rawValue: rawValue + 1) }
    /// The kind to shrink into, and the child count at which to do it (below the smaller kind's
    /// capacity, so a node at the boundary does not flip back and forth).
    var shrink: (kind: NodeKind, atCount: Int)? {
        switch self {
        case .node4: nil
        case .node16: (.node4, 3)
        case .node48: (.node16, 12)
        case .node256: (.node48, 40)
        }
    }

    /// Virtual bytes reserved for this kind's arena in one shard.
    var arenaCapacity: Int {
        switch self {
        case .node4: 8 << 30
        case .node16: 8 << 30
        case .node48: 16 << 30
        case .node256: 16 << 30
        }
    }
}

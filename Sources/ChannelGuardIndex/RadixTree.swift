#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An adaptive radix tree (Leis, Kemper, Neumann, ICDE 2013) from byte keys to 16-byte values: one
/// shard of the serial index.
///
/// - Inner nodes adapt to their child count (``NodeKind``: 4, 16, 48, 256 children).
/// - Paths are compressed: a node keeps up to ``inlinePrefix`` skipped bytes; a longer shared run is
///   a chain of one-child nodes. Leaves hang as high as their key is unique (lazy expansion) and keep
///   the rest of their key (``LeafCodec``).
/// - Nodes and leaves live in five ``Arena``s, addressed by 32-bit ``NodeRef``s: no per-node object,
///   no reference counting, half-size child pointers. Freed slots go on per-kind free lists.
/// - Keys must be prefix-free (no key is a prefix of another); ``IndexKey`` guarantees it by ending
///   serials with a terminator byte no serial character uses.
///
/// The tree is a value with unsafe storage: exactly one owner calls ``release()`` (``IndexShard``).
/// It is not thread-safe; see ``SerialIndex`` for the concurrency model.
struct RadixTree {
    /// Prefix bytes a node stores in its header.
    static let inlinePrefix = 2
    /// Longest key accepted.
    static let maxKeyLength = 48
    /// Largest leaf: header, a raw key, the value.
    static let maxLeafSize = 1 + maxKeyLength + LeafCodec.valueSize
    /// Address space reserved for leaves (offsets are 31 bits).
    static let leafArenaCapacity = 1 << 31

    var node4: Arena
    var node16: Arena
    var node48: Arena
    var node256: Arena
    var leaves: Arena
    /// Root reference, free-list heads (one per node kind, then one per leaf size), and counters, in
    /// one block so that pointers to the root stay valid while the tree changes.
    let meta: UnsafeMutablePointer<UInt32>
    /// Number of keys.
    var count = 0
    /// Base address (0–3) and stride (4–7) of each node kind, so a node's address is two table loads
    /// and a multiply instead of a branch on its kind.
    let layout: UnsafeMutablePointer<Int>

    static let metaRoot = 0
    static let metaFreeNodes = 1
    static let metaFreeLeaves = 5
    /// Changes each time the tree's shape changes (a key added or removed), never on value updates.
    static let metaGeneration = metaFreeLeaves + maxLeafSize + 1
    static let metaCount = metaGeneration + 1

    init() throws(IndexError) {
        node4 = try Arena(capacity: NodeKind.node4.arenaCapacity, reservedPrefix: NodeKind.node4.stride)
        node16 = try Arena(capacity: NodeKind.node16.arenaCapacity, reservedPrefix: NodeKind.node16.stride)
        node48 = try Arena(capacity: NodeKind.node48.arenaCapacity, reservedPrefix: NodeKind.node48.stride)
        node256 = try Arena(capacity: NodeKind.node256.arenaCapacity, reservedPrefix: NodeKind.node256.stride)
        leaves = try Arena(capacity: Self.leafArenaCapacity, reservedPrefix: 8)
        meta = .allocate(capacity: Self.metaCount)
        meta.initialize(repeating: 0, count: Self.metaCount)
        layout = .allocate(capacity: 8)
        for kind in NodeKind.allCases {
            layout[Int(kind.rawValue)] = Int(
                bitPattern: [node4.base, node16.base, node48.base, node256.base][Int(kind.rawValue)]
            )
            layout[4 + Int(kind.rawValue)] = kind.stride
        }
    }

    /// Returns every arena to the system. The tree must not be used afterwards.
    func release() {
        node4.release()
        node16.release()
        node48.release()
        node256.release()
        leaves.release()
        meta.deallocate()
        layout.deallocate()
    }

    var root: NodeRef {
        @inline(__always) get { NodeRef(raw: meta[Self.metaRoot]) }
        nonmutating set { meta[Self.metaRoot] = newValue.raw }
    }

    var rootSlot: UnsafeMutablePointer<UInt32> { meta + Self.metaRoot }

    /// The shape generation (see ``metaGeneration``).
    @inline(__always) var generation: UInt32 { meta[Self.metaGeneration] }

    @inline(__always) func shapeChanged() { meta[Self.metaGeneration] &+= 1 }

    /// Bytes of the arenas in use (nodes and leaves handed out, free slots included).
    var bytesUsed: Int { node4.used + node16.used + node48.used + node256.used + leaves.used }

    // MARK: Addresses

    @inline(__always)
    func base(_ kind: NodeKind) -> UnsafeMutableRawPointer {
        switch kind {
        case .node4: node4.base
        case .node16: node16.base
        case .node48: node48.base
        case .node256: node256.base
        }
    }

    @inline(__always)
    func node(_ ref: NodeRef) -> UnsafeMutableRawPointer {
        let kind = ref.kindIndex
        return UnsafeMutableRawPointer(bitPattern: layout[kind] &+ ref.slot &* layout[4 + kind]).unsafelyUnwrapped
    }

    @inline(__always)
    func leaf(_ ref: NodeRef) -> UnsafeMutableRawPointer { leaves.base + ref.leafOffset }

    // MARK: Allocation

    /// Throws unless every arena has room for the largest single insertion (a leaf, its moved
    /// sibling, and a branch with its chain), so that an insertion never fails half-way.
    func ensureRoom() throws(IndexError) {
        let chain = Self.maxKeyLength / (Self.inlinePrefix + 1) + 2
        if leaves.capacity - leaves.used < 3 * Self.maxLeafSize {
            throw IndexError(.capacityExceeded, "leaf arena full at \(count) keys; use more shards")
        }
        for kind in NodeKind.allCases {
            let arena = arena(kind)
            if arena.capacity - arena.used < chain * kind.stride
                || (arena.used / kind.stride) + chain > NodeRef.maxSlot
            {
                throw IndexError(.capacityExceeded, "\(kind) arena full at \(count) keys; use more shards")
            }
        }
    }

    func arena(_ kind: NodeKind) -> Arena {
        switch kind {
        case .node4: node4
        case .node16: node16
        case .node48: node48
        case .node256: node256
        }
    }

    mutating func allocateNode(_ kind: NodeKind) -> (NodeRef, UnsafeMutableRawPointer) {
        let head = meta[Self.metaFreeNodes + Int(kind.rawValue)]
        let slot: Int
        if head != 0 {
            slot = Int(head)
            meta[Self.metaFreeNodes + Int(kind.rawValue)] = (base(kind) + slot * kind.stride).load(as: UInt32.self)
        } else {
            let offset: Int?
            switch kind {
            case .node4: offset = node4.allocate(kind.stride)
            case .node16: offset = node16.allocate(kind.stride)
            case .node48: offset = node48.allocate(kind.stride)
            case .node256: offset = node256.allocate(kind.stride)
            }
            slot = offset! / kind.stride
        }
        let ref = NodeRef(kind: kind, slot: slot)
        let pointer = base(kind) + slot * kind.stride
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: kind.stride)
        return (ref, pointer)
    }

    func freeNode(_ ref: NodeRef) {
        let kind = ref.kind
        let index = Self.metaFreeNodes + Int(kind.rawValue)
        node(ref).storeBytes(of: meta[index], as: UInt32.self)
        meta[index] = UInt32(ref.slot)
    }

    /// A new leaf holding `suffix` and `value`.
    mutating func makeLeaf(_ suffix: UnsafeRawBufferPointer, _ value: SerialBinding) -> NodeRef {
        let size = LeafCodec.leafSize(suffix)
        let head = meta[Self.metaFreeLeaves + size]
        let offset: Int
        if head != 0 {
            offset = Int(head)
            meta[Self.metaFreeLeaves + size] = (leaves.base + offset).loadUnaligned(as: UInt32.self)
        } else {
            offset = leaves.allocate(size)!
        }
        let pointer = leaves.base + offset
        LeafCodec.write(suffix, at: pointer).storeBytes(of: value, as: SerialBinding.self)
        return NodeRef(leaf: offset)
    }

    func freeLeaf(_ ref: NodeRef) {
        let pointer = leaf(ref)
        let header = pointer.load(as: UInt8.self)
        let size = 1 + LeafCodec.storedBytes(header) + LeafCodec.valueSize
        pointer.storeBytes(of: meta[Self.metaFreeLeaves + size], as: UInt32.self)
        meta[Self.metaFreeLeaves + size] = UInt32(ref.leafOffset)
    }

    /// The value stored in a leaf.
    @inline(__always)
    func value(_ ref: NodeRef) -> SerialBinding {
        LeafCodec.valuePointer(leaf(ref)).loadUnaligned(as: SerialBinding.self)
    }
}

extension RadixTree {
    /// The five arenas in snapshot order.
    var allArenas: [Arena] { [node4, node16, node48, node256, leaves] }

    /// Sets the bytes used of arena `position` (snapshot order) after its bytes were loaded.
    mutating func setUsed(_ position: Int, _ used: Int) {
        switch position {
        case 0: node4.used = used
        case 1: node16.used = used
        case 2: node48.used = used
        case 3: node256.used = used
        default: leaves.used = used
        }
    }

    /// Whether a reference points inside the used part of its arena.
    func isInBounds(_ ref: NodeRef) -> Bool {
        if ref.isNone { return true }
        if ref.isLeaf { return ref.leafOffset >= 8 && ref.leafOffset + 1 + LeafCodec.valueSize <= leaves.used }
        let kind = ref.kind
        return ref.slot >= 1 && (ref.slot + 1) * kind.stride <= arena(kind).used
    }
}

extension RadixTree {
    /// Bytes on the free lists: handed out once, freed, not yet reused.
    func freeBytes() -> Int {
        var total = 0
        for kind in NodeKind.allCases {
            var slot = Int(meta[Self.metaFreeNodes + Int(kind.rawValue)])
            while slot != 0 {
                total += kind.stride
                slot = Int((base(kind) + slot * kind.stride).load(as: UInt32.self))
            }
        }
        for size in 0...Self.maxLeafSize {
            var offset = Int(meta[Self.metaFreeLeaves + size])
            while offset != 0 {
                total += size
                offset = Int((leaves.base + offset).loadUnaligned(as: UInt32.self))
            }
        }
        return total
    }
}

/// Reading and changing one inner node: its header, finding a child, adding and removing children,
/// growing and shrinking between kinds.
extension RadixTree {
    @inline(__always)
    static func childCount(_ node: UnsafeRawPointer, _ kind: NodeKind) -> Int {
        let stored = Int(node.load(as: UInt8.self))
        return kind == .node256 && stored == 0 ? 256 : stored
    }

    @inline(__always)
    static func setChildCount(_ node: UnsafeMutableRawPointer, _ count: Int) {
        node.storeBytes(of: UInt8(truncatingIfNeeded: count), as: UInt8.self)
    }

    @inline(__always)
    static func prefixLength(_ node: UnsafeRawPointer) -> Int { Int(node.load(fromByteOffset: 1, as: UInt8.self)) }

    @inline(__always)
    static func prefixByte(_ node: UnsafeRawPointer, _ index: Int) -> UInt8 {
        node.load(fromByteOffset: 2 + index, as: UInt8.self)
    }

    /// Whether a node's compressed prefix equals the key's bytes from `depth`, with at least one key
    /// byte left before `limit` to branch on below it.
    @inline(__always)
    static func prefixMatches(_ node: UnsafeRawPointer, _ key: UnsafePointer<UInt8>, _ depth: Int, limit: Int) -> Bool {
        let count = prefixLength(node)
        guard depth + count < limit else { return false }
        for index in 0..<count where prefixByte(node, index) != key[depth + index] { return false }
        return true
    }

    static func setPrefix(_ node: UnsafeMutableRawPointer, _ bytes: UnsafePointer<UInt8>, _ count: Int) {
        node.storeBytes(of: UInt8(count), toByteOffset: 1, as: UInt8.self)
        for index in 0..<count { node.storeBytes(of: bytes[index], toByteOffset: 2 + index, as: UInt8.self) }
    }

    /// The first index of `byte` among the first `count` bytes at `keys`, found a word at a time.
    @inline(__always)
    static func find(_ byte: UInt8, in keys: UnsafeRawPointer, count: Int) -> Int? {
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        var word = 0
        while word * 8 < count {
            let value = keys.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self) ^ pattern
            let zero = (value &- 0x0101_0101_0101_0101) & ~value & 0x8080_8080_8080_8080
            if zero != 0 {
                let index = word * 8 + zero.trailingZeroBitCount >> 3
                return index < count ? index : nil
            }
            word += 1
        }
        return nil
    }

    /// Where the child for `byte` is stored, or `nil`.
    @inline(__always)
    func childSlot(_ ref: NodeRef, _ node: UnsafeMutableRawPointer, _ byte: UInt8) -> UnsafeMutablePointer<UInt32>? {
        let kind = ref.kind
        let children = (node + kind.childrenOffset).assumingMemoryBound(to: UInt32.self)
        switch kind {
        case .node4, .node16:
            guard let index = Self.find(byte, in: node + 4, count: Self.childCount(node, kind)) else { return nil }
            return children + index
        case .node48:
            let word = Int(byte >> 6)
            let bits = (node + 4).loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
            let bit = UInt64(1) << UInt64(byte & 63)
            guard bits & bit != 0 else { return nil }
            return children + Self.rank(node, word: word, below: bits & (bit &- 1))
        case .node256:
            let slot = children + Int(byte)
            return slot.pointee == 0 ? nil : slot
        }
    }

    /// The number of present bytes below a Node48 key: whole words before `word`, plus `below`.
    @inline(__always)
    static func rank(_ node: UnsafeRawPointer, word: Int, below: UInt64) -> Int {
        var rank = below.nonzeroBitCount
        var index = 0
        while index < word {
            rank += (node + 4).loadUnaligned(fromByteOffset: index * 8, as: UInt64.self).nonzeroBitCount
            index += 1
        }
        return rank
    }

    /// The children of a node in key order.
    func forEachChild(_ ref: NodeRef, _ body: (UInt8, UnsafeMutablePointer<UInt32>) -> Void) {
        let node = self.node(ref)
        let kind = ref.kind
        let children = (node + kind.childrenOffset).assumingMemoryBound(to: UInt32.self)
        switch kind {
        case .node4, .node16:
            for index in 0..<Self.childCount(node, kind) {
                body(node.load(fromByteOffset: 4 + index, as: UInt8.self), children + index)
            }
        case .node48:
            var rank = 0
            for word in 0..<4 {
                var bits = (node + 4).loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
                while bits != 0 {
                    let byte = UInt8(word * 64 + bits.trailingZeroBitCount)
                    body(byte, children + rank)
                    rank += 1
                    bits &= bits &- 1
                }
            }
        case .node256:
            for byte in 0..<256 where children[byte] != 0 { body(UInt8(byte), children + byte) }
        }
    }

    /// A Node4 with the given prefix and children (sorted here).
    mutating func makeNode4(
        prefix: UnsafePointer<UInt8>,
        _ prefixCount: Int,
        _ children: [(UInt8, NodeRef)]
    ) -> NodeRef {
        let (ref, node) = allocateNode(.node4)
        Self.setPrefix(node, prefix, prefixCount)
        let sorted = children.sorted { $0.0 < $1.0 }
        for (index, child) in sorted.enumerated() {
            node.storeBytes(of: child.0, toByteOffset: 4 + index, as: UInt8.self)
            node.storeBytes(of: child.1.raw, toByteOffset: 8 + index * 4, as: UInt32.self)
        }
        Self.setChildCount(node, sorted.count)
        return ref
    }

    /// A branch where two subtrees part after `prefixCount` shared bytes: a Node4 holding both,
    /// under a chain of one-child Node4s when the shared run is longer than a header holds.
    mutating func makeBranch(
        prefix: UnsafePointer<UInt8>,
        _ prefixCount: Int,
        _ first: (UInt8, NodeRef),
        _ second: (UInt8, NodeRef)
    ) -> NodeRef {
        let bottomCount = min(prefixCount, Self.inlinePrefix)
        var top = makeNode4(prefix: prefix + (prefixCount - bottomCount), bottomCount, [first, second])
        var remaining = prefixCount - bottomCount
        while remaining > 0 {
            let byte = prefix[remaining - 1]
            let chainPrefix = min(remaining - 1, Self.inlinePrefix)
            top = makeNode4(prefix: prefix + (remaining - 1 - chainPrefix), chainPrefix, [(byte, top)])
            remaining -= chainPrefix + 1
        }
        return top
    }

    /// Adds a child under `byte` (absent) to the node referenced at `slot`, growing it when full.
    mutating func addChild(slot: UnsafeMutablePointer<UInt32>, _ byte: UInt8, _ child: NodeRef) {
        var ref = NodeRef(raw: slot.pointee)
        var node = self.node(ref)
        if Self.childCount(node, ref.kind) == ref.kind.capacity, let larger = ref.kind.larger {
            let grown = regrow(ref, into: larger)
            freeNode(ref)
            slot.pointee = grown.raw
            ref = grown
            node = self.node(ref)
        }
        let kind = ref.kind
        let count = Self.childCount(node, kind)
        let children = (node + kind.childrenOffset).assumingMemoryBound(to: UInt32.self)
        switch kind {
        case .node4, .node16:
            var index = count
            while index > 0 && node.load(fromByteOffset: 4 + index - 1, as: UInt8.self) > byte {
                node.storeBytes(
                    of: node.load(fromByteOffset: 4 + index - 1, as: UInt8.self),
                    toByteOffset: 4 + index,
                    as: UInt8.self
                )
                children[index] = children[index - 1]
                index -= 1
            }
            node.storeBytes(of: byte, toByteOffset: 4 + index, as: UInt8.self)
            children[index] = child.raw
        case .node48:
            let word = Int(byte >> 6)
            let bits = (node + 4).loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
            let bit = UInt64(1) << UInt64(byte & 63)
            let rank = Self.rank(node, word: word, below: bits & (bit &- 1))
            var index = count
            while index > rank {
                children[index] = children[index - 1]
                index -= 1
            }
            children[rank] = child.raw
            (node + 4).storeBytes(of: bits | bit, toByteOffset: word * 8, as: UInt64.self)
        case .node256:
            children[Int(byte)] = child.raw
        }
        Self.setChildCount(node, count + 1)
    }

    /// A copy of a node in another kind (larger or smaller), with the same prefix and children.
    mutating func regrow(_ ref: NodeRef, into kind: NodeKind) -> NodeRef {
        var entries: [(UInt8, UInt32)] = []
        entries.reserveCapacity(Self.childCount(node(ref), ref.kind))
        forEachChild(ref) { byte, slot in entries.append((byte, slot.pointee)) }
        let old = node(ref)
        let (grown, node) = allocateNode(kind)
        node.copyMemory(from: old, byteCount: 4)
        let children = (node + kind.childrenOffset).assumingMemoryBound(to: UInt32.self)
        for (index, entry) in entries.enumerated() {
            switch kind {
            case .node4, .node16:
                node.storeBytes(of: entry.0, toByteOffset: 4 + index, as: UInt8.self)
                children[index] = entry.1
            case .node48:
                let word = Int(entry.0 >> 6)
                let bits = (node + 4).loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
                (node + 4).storeBytes(
                    of: bits | UInt64(1) << UInt64(entry.0 & 63),
                    toByteOffset: word * 8,
                    as: UInt64.self
                )
                children[index] = entry.1
            case .node256:
                children[Int(entry.0)] = entry.1
            }
        }
        Self.setChildCount(node, entries.count)
        return grown
    }

    /// Removes the child under `byte` from the node referenced at `slot`, shrinking it when it falls
    /// below its kind's range. Returns the remaining child count.
    mutating func removeChild(slot: UnsafeMutablePointer<UInt32>, _ byte: UInt8) -> Int {
        let ref = NodeRef(raw: slot.pointee)
        let node = self.node(ref)
        let kind = ref.kind
        let count = Self.childCount(node, kind)
        let children = (node + kind.childrenOffset).assumingMemoryBound(to: UInt32.self)
        switch kind {
        case .node4, .node16:
            guard let index = Self.find(byte, in: node + 4, count: count) else { return count }
            for moved in index..<(count - 1) {
                node.storeBytes(
                    of: node.load(fromByteOffset: 4 + moved + 1, as: UInt8.self),
                    toByteOffset: 4 + moved,
                    as: UInt8.self
                )
                children[moved] = children[moved + 1]
            }
        case .node48:
            let word = Int(byte >> 6)
            let bits = (node + 4).loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
            let bit = UInt64(1) << UInt64(byte & 63)
            guard bits & bit != 0 else { return count }
            let rank = Self.rank(node, word: word, below: bits & (bit &- 1))
            for moved in rank..<(count - 1) { children[moved] = children[moved + 1] }
            (node + 4).storeBytes(of: bits & ~bit, toByteOffset: word * 8, as: UInt64.self)
        case .node256:
            children[Int(byte)] = 0
        }
        Self.setChildCount(node, count - 1)
        if let shrink = kind.shrink, count - 1 <= shrink.atCount {
            let smaller = regrow(ref, into: shrink.kind)
            freeNode(ref)
            slot.pointee = smaller.raw
        }
        return count - 1
    }
}

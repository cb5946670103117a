/// Checking a tree read from outside (a snapshot) before anything follows its references.
extension RadixTree {
    /// Walks the whole tree and every free list and throws ``IndexError/Code/snapshotStructure`` at
    /// the first thing that is not a well-formed tree: a reference outside its arena, a node whose
    /// child count, keys or bitmap disagree, a leaf header that cannot be, a key longer than
    /// ``maxKeyLength``, a free list that loops or leaves its arena, or a key count other than
    /// `expectedCount`. A checksum catches damage; this catches a file that was made to pass it.
    /// The walk stops as soon as it has seen more leaves than expected, so a file whose nodes share
    /// children cannot make it run long.
    func validate(expectedCount: Int) throws(IndexError) {
        var leavesSeen = 0
        var stack: [(NodeRef, Int)] = [(root, 0)]
        while let (ref, depth) = stack.popLast() {
            if ref.isNone { continue }
            guard isInBounds(ref) else { throw Self.bad("reference \(String(ref.raw, radix: 16)) outside its arena") }
            if ref.isLeaf {
                let leaf = self.leaf(ref)
                let header = leaf.load(as: UInt8.self)
                if header & 0x80 == 0 {
                    guard Int(header) <= Self.maxKeyLength else { throw Self.bad("leaf with \(header) raw bytes") }
                } else {
                    guard header & 0x60 != 0x60 else { throw Self.bad("leaf with an unknown terminator") }
                }
                guard depth + LeafCodec.keyBytes(header) <= Self.maxKeyLength,
                    ref.leafOffset + 1 + LeafCodec.storedBytes(header) + LeafCodec.valueSize <= leaves.used
                else { throw Self.bad("leaf at \(ref.leafOffset) runs past its key length or arena") }
                leavesSeen += 1
                guard leavesSeen <= expectedCount else {
                    throw Self.bad("more leaves than the \(expectedCount) keys recorded")
                }
                continue
            }
            let node = self.node(ref)
            let kind = ref.kind
            let count = Self.childCount(node, kind)
            let prefix = Self.prefixLength(node)
            guard prefix <= Self.inlinePrefix, depth + prefix + 1 <= Self.maxKeyLength else {
                throw Self.bad("node prefix of \(prefix) bytes at depth \(depth)")
            }
            guard count >= 1, count <= kind.capacity else { throw Self.bad("\(kind) with \(count) children") }
            switch kind {
            case .node4, .node16:
                for index in 1..<max(1, count) {
                    guard
                        node.load(fromByteOffset: 4 + index - 1, as: UInt8.self)
                            < node.load(fromByteOffset: 4 + index, as: UInt8.self)
                    else { throw Self.bad("\(kind) keys out of order") }
                }
            case .node48:
                var present = 0
                for word in 0..<4 {
                    present += (node + 4).loadUnaligned(fromByteOffset: word * 8, as: UInt64.self).nonzeroBitCount
                }
                guard present == count else { throw Self.bad("node48 bitmap holds \(present) keys, count \(count)") }
            case .node256:
                let children = (node + 4).assumingMemoryBound(to: UInt32.self)
                var present = 0
                for byte in 0..<256 where children[byte] != 0 { present += 1 }
                guard present == count else { throw Self.bad("node256 holds \(present) children, count \(count)") }
            }
            var missing = false
            forEachChild(ref) { _, slot in
                if slot.pointee == 0 { missing = true }
                stack.append((NodeRef(raw: slot.pointee), depth + prefix + 1))
            }
            guard !missing else { throw Self.bad("\(kind) with an empty child slot") }
        }
        guard leavesSeen == expectedCount else {
            throw Self.bad("\(leavesSeen) leaves, \(expectedCount) keys recorded")
        }
        try validateFreeLists()
    }

    private func validateFreeLists() throws(IndexError) {
        for kind in NodeKind.allCases {
            var slot = Int(meta[Self.metaFreeNodes + Int(kind.rawValue)])
            var steps = 0
            let limit = arena(kind).used / kind.stride
            while slot != 0 {
                guard isInBounds(NodeRef(kind: kind, slot: slot)), steps <= limit else {
                    throw Self.bad("\(kind) free list leaves its arena or loops")
                }
                slot = Int((base(kind) + slot * kind.stride).load(as: UInt32.self))
                steps += 1
            }
        }
        for size in 0...Self.maxLeafSize {
            var offset = Int(meta[Self.metaFreeLeaves + size])
            var steps = 0
            while offset != 0 {
                guard size >= 4, offset >= 8, offset + size <= leaves.used, steps <= leaves.used / max(size, 1) else {
                    throw Self.bad("free list of \(size)-byte leaves leaves its arena or loops")
                }
                offset = Int((leaves.base + offset).loadUnaligned(as: UInt32.self))
                steps += 1
            }
        }
    }

    private static func bad(_ message: String) -> IndexError { IndexError(.snapshotStructure, message) }
}

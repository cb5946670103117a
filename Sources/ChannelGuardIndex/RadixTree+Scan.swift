/// Visiting keys in order.
extension RadixTree {
    /// Calls `body` with every key that starts with `prefix`, in byte order, and its leaf; stops
    /// when `body` returns `false`. Returns `false` when stopped.
    @discardableResult
    func forEach(
        prefix: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer, NodeRef) throws -> Bool
    ) rethrows -> Bool {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxKeyLength + 8) { path in
            try visit(root, depth: 0, path: path.baseAddress!, prefix: prefix, body)
        }
    }

    private func visit(
        _ ref: NodeRef,
        depth: Int,
        path: UnsafeMutablePointer<UInt8>,
        prefix: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer, NodeRef) throws -> Bool
    ) rethrows -> Bool {
        if ref.isNone { return true }
        if ref.isLeaf {
            let count = LeafCodec.decode(leaf(ref), into: path + depth)
            let length = depth + count
            for index in depth..<max(depth, min(prefix.count, length)) where path[index] != prefix[index] {
                return true
            }
            guard length >= prefix.count else { return true }
            return try body(UnsafeRawBufferPointer(start: path, count: length), ref)
        }
        let node = self.node(ref)
        var depth = depth
        for index in 0..<Self.prefixLength(node) {
            path[depth] = Self.prefixByte(node, index)
            if depth < prefix.count && path[depth] != prefix[depth] { return true }
            depth += 1
        }
        var keepGoing = true
        try forEachChildThrowing(ref) { byte, slot in
            guard keepGoing else { return }
            if depth < prefix.count && byte != prefix[depth] { return }
            path[depth] = byte
            keepGoing = try visit(NodeRef(raw: slot.pointee), depth: depth + 1, path: path, prefix: prefix, body)
        }
        return keepGoing
    }

    private func forEachChildThrowing(
        _ ref: NodeRef,
        _ body: (UInt8, UnsafeMutablePointer<UInt32>) throws -> Void
    ) rethrows {
        var children: [(UInt8, UnsafeMutablePointer<UInt32>)] = []
        forEachChild(ref) { children.append(($0, $1)) }
        for (byte, slot) in children { try body(byte, slot) }
    }
}

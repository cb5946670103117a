/// Inserting and removing keys.
extension RadixTree {
    /// Stores `value` under `key`, replacing any value there. Returns the value replaced.
    ///
    /// Throws only before changing anything: a key that is too long or not prefix-free, or a full
    /// arena.
    @discardableResult
    mutating func insert(
        _ key: UnsafePointer<UInt8>,
        _ length: Int,
        _ value: SerialBinding
    ) throws(IndexError) -> SerialBinding? {
        guard length > 0, length <= Self.maxKeyLength else {
            throw IndexError(.invalidKey, "key of \(length) bytes (1–\(Self.maxKeyLength))")
        }
        try ensureRoom()
        var slot = rootSlot
        var depth = 0
        while true {
            let ref = NodeRef(raw: slot.pointee)
            if ref.isNone {
                slot.pointee = makeLeaf(UnsafeRawBufferPointer(start: key + depth, count: length - depth), value).raw
                count += 1
                shapeChanged()
                return nil
            }
            if ref.isLeaf {
                let leaf = self.leaf(ref)
                if LeafCodec.matches(leaf, key + depth, length - depth) {
                    let valuePointer = LeafCodec.valuePointer(leaf)
                    let old = valuePointer.loadUnaligned(as: SerialBinding.self)
                    valuePointer.storeBytes(of: value, as: SerialBinding.self)
                    return old
                }
                return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxKeyLength) {
                    existing throws(IndexError) in
                    let existingCount = LeafCodec.decode(leaf, into: existing.baseAddress!)
                    var common = 0
                    while common < existingCount && depth + common < length && existing[common] == key[depth + common] {
                        common += 1
                    }
                    guard common < existingCount, depth + common < length else {
                        throw IndexError(.invalidKey, "a key is a prefix of another (keys must be prefix-free)")
                    }
                    let oldValue = LeafCodec.valuePointer(leaf).loadUnaligned(as: SerialBinding.self)
                    let moved = makeLeaf(
                        UnsafeRawBufferPointer(
                            start: existing.baseAddress! + common + 1,
                            count: existingCount - common - 1
                        ),
                        oldValue
                    )
                    let added = makeLeaf(
                        UnsafeRawBufferPointer(start: key + depth + common + 1, count: length - depth - common - 1),
                        value
                    )
                    freeLeaf(ref)
                    slot.pointee =
                        makeBranch(prefix: key + depth, common, (existing[common], moved), (key[depth + common], added))
                        .raw
                    count += 1
                    shapeChanged()
                    return nil
                }
            }
            let node = self.node(ref)
            let prefixCount = Self.prefixLength(node)
            if prefixCount > 0 {
                var matched = 0
                while matched < prefixCount && depth + matched < length
                    && Self.prefixByte(node, matched) == key[depth + matched]
                {
                    matched += 1
                }
                if matched < prefixCount {
                    guard depth + matched < length else {
                        throw IndexError(.invalidKey, "a key is a prefix of another (keys must be prefix-free)")
                    }
                    let nodeByte = Self.prefixByte(node, matched)
                    let rest = prefixCount - matched - 1
                    for index in 0..<rest {
                        node.storeBytes(
                            of: Self.prefixByte(node, matched + 1 + index),
                            toByteOffset: 2 + index,
                            as: UInt8.self
                        )
                    }
                    node.storeBytes(of: UInt8(rest), toByteOffset: 1, as: UInt8.self)
                    let added = makeLeaf(
                        UnsafeRawBufferPointer(start: key + depth + matched + 1, count: length - depth - matched - 1),
                        value
                    )
                    slot.pointee =
                        makeBranch(prefix: key + depth, matched, (nodeByte, ref), (key[depth + matched], added)).raw
                    count += 1
                    shapeChanged()
                    return nil
                }
                depth += prefixCount
            }
            guard depth < length else {
                throw IndexError(.invalidKey, "a key is a prefix of another (keys must be prefix-free)")
            }
            let byte = key[depth]
            if let child = childSlot(ref, node, byte) {
                slot = child
                depth += 1
                continue
            }
            let added = makeLeaf(UnsafeRawBufferPointer(start: key + depth + 1, count: length - depth - 1), value)
            addChild(slot: slot, byte, added)
            count += 1
            shapeChanged()
            return nil
        }
    }

    /// Removes `key`; returns its value, or `nil` when it was not there.
    @discardableResult
    mutating func remove(_ key: UnsafePointer<UInt8>, _ length: Int) -> SerialBinding? {
        guard length > 0, length <= Self.maxKeyLength else { return nil }
        // The slots from the root down to the leaf, and the key byte taken below each node.
        var slots: [UnsafeMutablePointer<UInt32>] = [rootSlot]
        var bytes: [UInt8] = []
        var depth = 0
        while true {
            let ref = NodeRef(raw: slots[slots.count - 1].pointee)
            if ref.isNone { return nil }
            if ref.isLeaf {
                let leaf = self.leaf(ref)
                guard LeafCodec.matches(leaf, key + depth, length - depth) else { return nil }
                let old = LeafCodec.valuePointer(leaf).loadUnaligned(as: SerialBinding.self)
                freeLeaf(ref)
                count -= 1
                shapeChanged()
                slots.removeLast()
                if slots.isEmpty {
                    root = .none
                } else {
                    detach(slots: slots, bytes: bytes)
                }
                return old
            }
            let node = self.node(ref)
            guard Self.prefixMatches(node, key, depth, limit: length) else { return nil }
            depth += Self.prefixLength(node)
            guard let child = childSlot(ref, node, key[depth]) else { return nil }
            bytes.append(key[depth])
            slots.append(child)
            depth += 1
        }
    }

    /// After a leaf under `bytes.last` of the node at `slots.last` is gone: removes that child and
    /// folds one-child nodes back into their child where it fits.
    private mutating func detach(slots: [UnsafeMutablePointer<UInt32>], bytes: [UInt8]) {
        var level = slots.count - 1
        let remaining = removeChild(slot: slots[level], bytes[level])
        guard remaining == 1 else { return }
        // A one-child node: fold it into its child, then keep folding chains above that now lead to
        // a leaf.
        while level >= 0 {
            let slot = slots[level]
            let ref = NodeRef(raw: slot.pointee)
            guard !ref.isLeaf, ref.kind == .node4, Self.childCount(node(ref), .node4) == 1 else { return }
            guard collapse(slot: slot) else { return }
            level -= 1
        }
    }

    /// Folds a one-child Node4 at `slot` into its child: a leaf takes the node's prefix and key byte
    /// in front of its suffix; a node takes them into its own prefix when they fit. Returns whether
    /// the child now stands in the node's place as a leaf (so the level above may fold too).
    private mutating func collapse(slot: UnsafeMutablePointer<UInt32>) -> Bool {
        let ref = NodeRef(raw: slot.pointee)
        let node = self.node(ref)
        let prefixCount = Self.prefixLength(node)
        let byte = node.load(fromByteOffset: 4, as: UInt8.self)
        let child = NodeRef(raw: node.load(fromByteOffset: 8, as: UInt32.self))
        if child.isLeaf {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxKeyLength + 1) { buffer in
                let base = buffer.baseAddress!
                for index in 0..<prefixCount { base[index] = Self.prefixByte(node, index) }
                base[prefixCount] = byte
                let childLeaf = leaf(child)
                let suffixCount = LeafCodec.decode(childLeaf, into: base + prefixCount + 1)
                let value = LeafCodec.valuePointer(childLeaf).loadUnaligned(as: SerialBinding.self)
                freeLeaf(child)
                freeNode(ref)
                slot.pointee =
                    makeLeaf(UnsafeRawBufferPointer(start: base, count: prefixCount + 1 + suffixCount), value).raw
            }
            return true
        }
        let childNode = self.node(child)
        let childPrefix = Self.prefixLength(childNode)
        guard prefixCount + 1 + childPrefix <= Self.inlinePrefix else { return false }
        var merged: (UInt8, UInt8) = (0, 0)
        withUnsafeMutableBytes(of: &merged) { buffer in
            for index in 0..<prefixCount { buffer[index] = Self.prefixByte(node, index) }
            buffer[prefixCount] = byte
            for index in 0..<childPrefix { buffer[prefixCount + 1 + index] = Self.prefixByte(childNode, index) }
            Self.setPrefix(
                childNode,
                buffer.baseAddress!.assumingMemoryBound(to: UInt8.self),
                prefixCount + 1 + childPrefix
            )
        }
        freeNode(ref)
        slot.pointee = child.raw
        return false
    }
}

/// Copying a tree into fresh arenas, depth first.
extension RadixTree {
    /// A copy of this tree in new arenas with no free slots, nodes and leaves laid out depth first
    /// (a subtree's nodes end up near each other, which ordered scans like).
    ///
    /// Growing nodes and splitting leaves while keys are added leaves freed slots behind: Node16s
    /// outgrown into Node48s, leaves moved deeper with shorter suffixes. Those slots are reused only
    /// by nodes of the same kind and leaves of the same size, so after a bulk load about 2 bytes per
    /// key sit on free lists. A compacted copy holds none.
    func compacted() throws(IndexError) -> RadixTree {
        var copy = try RadixTree()
        copy.count = count
        copy.root = copy.copySubtree(root, from: self)
        copy.meta[Self.metaGeneration] = meta[Self.metaGeneration] &+ 1
        return copy
    }

    private mutating func copySubtree(_ ref: NodeRef, from source: RadixTree) -> NodeRef {
        if ref.isNone { return .none }
        if ref.isLeaf {
            let leaf = source.leaf(ref)
            let size = 1 + LeafCodec.storedBytes(leaf.load(as: UInt8.self)) + LeafCodec.valueSize
            let offset = leaves.allocate(size)!
            (leaves.base + offset).copyMemory(from: leaf, byteCount: size)
            return NodeRef(leaf: offset)
        }
        let kind = ref.kind
        let (copyRef, node) = allocateNode(kind)
        node.copyMemory(from: source.node(ref), byteCount: kind.stride)
        var children: [(UnsafeMutablePointer<UInt32>, NodeRef)] = []
        forEachChild(copyRef) { _, slot in children.append((slot, NodeRef(raw: slot.pointee))) }
        for (slot, child) in children { slot.pointee = copySubtree(child, from: source).raw }
        return copyRef
    }
}

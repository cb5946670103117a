import CChannelGuardSupport

/// Finding keys: exact, longest serial-prefix range, and many at once with their cache misses
/// overlapped.
extension RadixTree {
    /// The leaf holding exactly `key`, or `.none`.
    @inline(__always)
    func find(_ key: UnsafePointer<UInt8>, _ length: Int) -> NodeRef {
        // One walk of the batch machinery: the same steps, prefetches included.
        var cursor = Cursor(key: key, length: length, depth: 0, ref: root, index: 0, slot: nil)
        while !step(&cursor) {}
        return cursor.ref
    }

    /// The value stored under exactly `key`.
    @inline(__always)
    func lookup(_ key: UnsafePointer<UInt8>, _ length: Int) -> SerialBinding? {
        let ref = find(key, length)
        return ref.isNone ? nil : value(ref)
    }

    /// The leaf of the longest range key `key[0..<n] + 0x01` with `n ≥ minimum`, for a `key` that
    /// ends with a serial terminator (0x00): the range of serial prefixes that covers the serial.
    func longestRange(_ key: UnsafePointer<UInt8>, _ length: Int, minimum: Int) -> NodeRef {
        var best = NodeRef.none
        var ref = root
        var depth = 0
        let stem = length - 1
        while !ref.isNone {
            if ref.isLeaf {
                let leaf = self.leaf(ref)
                let header = leaf.load(as: UInt8.self)
                let keyBytes = LeafCodec.keyBytes(header)
                // A range leaf reached by lazy expansion: its key minus the 0x01 must be a prefix of
                // the serial.
                if depth + keyBytes - 1 <= stem {
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxKeyLength) { buffer in
                        let count = LeafCodec.decode(leaf, into: buffer.baseAddress!)
                        guard count > 0, buffer[count - 1] == 1, depth + count - 1 >= minimum else { return }
                        for index in 0..<(count - 1) where buffer[index] != key[depth + index] { return }
                        best = ref
                    }
                }
                return best
            }
            let node = self.node(ref)
            // The node's prefix may end exactly at the stem's end: a range of the whole serial.
            guard Self.prefixMatches(node, key, depth, limit: stem + 1) else { return best }
            depth += Self.prefixLength(node)
            if depth >= minimum, let range = childSlot(ref, node, 1) {
                let candidate = NodeRef(raw: range.pointee)
                if candidate.isLeaf && LeafCodec.keyBytes(leaf(candidate).load(as: UInt8.self)) == 0 {
                    best = candidate
                }
            }
            guard depth < stem, let slot = childSlot(ref, node, key[depth]) else { return best }
            ref = NodeRef(raw: slot.pointee)
            depth += 1
        }
        return best
    }

    /// Looks up `count` keys at once. Keys are processed in groups whose walks advance one level at
    /// a time in turn, each prefetching its next node, so the cache misses of a group overlap instead
    /// of following one another. `keyAt(i)` gives key `i`; `found(i, leaf)` receives each answer
    /// (`.none` when absent), in any order.
    @inline(__always)
    func findBatch(
        count: Int,
        shortcuts: UnsafeMutablePointer<Shortcut>,
        keyAt: (Int) -> (UnsafePointer<UInt8>, Int),
        found: (Int, NodeRef) -> Void
    ) {
        let group = 16
        let generation = self.generation
        withUnsafeTemporaryAllocation(of: Cursor.self, capacity: group) { cursors in
            // A lane that finishes takes the next key at once, so `group` walks are always in flight
            // until the keys run out (no tail of lanes waiting on memory alone).
            var next = 0
            func begin(_ lane: Int) {
                let (key, length) = keyAt(next)
                let (ref, depth) = Shortcut.start(shortcuts, self, generation, key, length)
                cursors[lane] = Cursor(key: key, length: length, depth: depth, ref: ref, index: next, slot: nil)
                if !ref.isNone && !ref.isLeaf { cg_prefetch(node(ref)) }
                next += 1
            }
            var active = min(group, count)
            for lane in 0..<active { begin(lane) }
            while active > 0 {
                var lane = 0
                while lane < active {
                    if step(&cursors[lane]) {
                        found(cursors[lane].index, cursors[lane].ref)
                        if next < count {
                            begin(lane)
                            lane += 1
                        } else {
                            active -= 1
                            cursors[lane] = cursors[active]
                        }
                    } else {
                        lane += 1
                    }
                }
            }
        }
    }

    /// Where walks of keys sharing their first ``width`` bytes (the tag and the GTIN) resume: the
    /// node reached by consuming only those bytes. The top of the tree is then walked once per GTIN
    /// rather than once per key. (Going one byte further, to the serial's first character, measured
    /// slower: thousands of entries no longer stay in the L1 cache.) A direct-mapped
    /// table kept by the shard across batches; an entry is valid only for the tree generation it was
    /// made in, so any change of shape retires every entry at once.
    struct Shortcut {
        static let width = 7
        static let slots = 256
        var prefix: UInt64
        var ref: NodeRef
        var depth: UInt16
        var generation: UInt32

        static let empty = Shortcut(prefix: 0, ref: .none, depth: 0, generation: .max)

        @inline(__always)
        static func start(
            _ table: UnsafeMutablePointer<Shortcut>,
            _ tree: RadixTree,
            _ generation: UInt32,
            _ key: UnsafePointer<UInt8>,
            _ length: Int
        ) -> (NodeRef, Int) {
            guard length > width else { return (tree.root, 0) }
            let prefix = UnsafeRawPointer(key).loadUnaligned(as: UInt64.self) & 0x00FF_FFFF_FFFF_FFFF
            let slot = Int(truncatingIfNeeded: (prefix &* 0x9E37_79B9_7F4A_7C15) >> 56)
            let entry = table[slot]
            if entry.prefix == prefix && entry.generation == generation { return (entry.ref, Int(entry.depth)) }
            let (ref, depth) = tree.descend(key, through: width)
            table[slot] = Shortcut(prefix: prefix, ref: ref, depth: UInt16(depth), generation: generation)
            return (ref, depth)
        }
    }

    /// Walks down from the root while each step reads only `key[0..<limit]`: the state is then the
    /// same for every key sharing those bytes.
    func descend(_ key: UnsafePointer<UInt8>, through limit: Int) -> (NodeRef, Int) {
        var ref = root
        var depth = 0
        while !ref.isNone && !ref.isLeaf {
            let node = self.node(ref)
            let prefixCount = Self.prefixLength(node)
            guard depth + prefixCount + 1 <= limit else { break }
            guard Self.prefixMatches(node, key, depth, limit: limit) else { return (.none, depth) }
            depth += prefixCount
            guard let slot = childSlot(ref, node, key[depth]) else { return (.none, depth + 1) }
            ref = NodeRef(raw: slot.pointee)
            depth += 1
        }
        return (ref, depth)
    }

    /// One walk in a batch.
    struct Cursor {
        var key: UnsafePointer<UInt8>
        var length: Int
        var depth: Int
        var ref: NodeRef
        var index: Int
        /// A child slot whose line was prefetched in the previous turn (Node48), read next turn.
        var slot: UnsafeMutablePointer<UInt32>?
    }

    /// Advances a walk by one node; returns `true` when it has its answer in `cursor.ref`.
    @inline(__always)
    func step(_ cursor: inout Cursor) -> Bool {
        if let slot = cursor.slot {
            cursor.slot = nil
            advance(&cursor, to: NodeRef(raw: slot.pointee))
            return false
        }
        let ref = cursor.ref
        if ref.isNone { return true }
        if ref.isLeaf {
            if !LeafCodec.matches(leaf(ref), cursor.key + cursor.depth, cursor.length - cursor.depth) {
                cursor.ref = .none
            }
            return true
        }
        let node = self.node(ref)
        guard Self.prefixMatches(node, cursor.key, cursor.depth, limit: cursor.length) else {
            cursor.ref = .none
            return true
        }
        let depth = cursor.depth + Self.prefixLength(node)
        guard let slot = childSlot(ref, node, cursor.key[depth]) else {
            cursor.ref = .none
            return true
        }
        cursor.depth = depth + 1
        if ref.kind == .node48 {
            // The child's position was known only after reading the bitmap: fetch its line and
            // read it next turn, rather than fetching the whole node up front.
            cg_prefetch(slot)
            cursor.slot = slot
            return false
        }
        advance(&cursor, to: NodeRef(raw: slot.pointee))
        return false
    }

    /// Moves a walk to `next` and prefetches what it will read there.
    @inline(__always)
    func advance(_ cursor: inout Cursor, to next: NodeRef) {
        cursor.ref = next
        if next.isLeaf {
            let leaf = self.leaf(next)
            cg_prefetch(leaf)
            cg_prefetch(leaf + 32)
        } else {
            prefetch(next, self.node(next), nextByte: cursor.depth < cursor.length ? cursor.key[cursor.depth] : 0)
        }
    }

    /// Prefetches the cache lines of a node a lookup will read: the header and the line holding the
    /// child for `nextByte` (the next key byte, assuming no compressed prefix, as is usual below the
    /// top levels); for a Node48 its header and bitmap only, since the child's line is known only
    /// after reading them (``step(_:)`` fetches it in a second turn).
    @inline(__always)
    func prefetch(_ ref: NodeRef, _ node: UnsafeMutableRawPointer, nextByte: UInt8) {
        cg_prefetch(node)
        switch ref.kind {
        case .node4:
            cg_prefetch(node + 23)
        case .node16:
            cg_prefetch(node + 48)
            cg_prefetch(node + 83)
        case .node48:
            cg_prefetch(node + 35)
        case .node256:
            cg_prefetch(node + 4 + Int(nextByte) * 4)
        }
    }
}

/// One shard of a ``SerialIndex``: a radix tree and the counters kept beside it. It owns the tree's
/// memory and returns it when released.
public final class IndexShard {
    var tree: RadixTree
    /// Serial-prefix ranges in this shard (every shard holds every range).
    var rangeCount = 0

    /// Where batch lookups resume below the GTIN levels (``RadixTree/Shortcut``).
    let shortcuts: UnsafeMutablePointer<RadixTree.Shortcut>

    init() throws(IndexError) {
        tree = try RadixTree()
        shortcuts = .allocate(capacity: RadixTree.Shortcut.slots)
        shortcuts.initialize(repeating: .empty, count: RadixTree.Shortcut.slots)
    }

    deinit {
        tree.release()
        shortcuts.deallocate()
    }

    /// Keys stored (serials, ranges, cartons and carton contents entries).
    public var count: Int { tree.count }

    /// Bytes of memory the shard's nodes and leaves occupy.
    public var bytesUsed: Int { tree.bytesUsed }

    /// Bytes of freed nodes and leaves waiting for reuse (included in ``bytesUsed``).
    public var bytesFree: Int { tree.freeBytes() }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous block of address space that fills from the front and never moves.
///
/// The whole block is reserved once (`mmap` with `MAP_NORESERVE`): pages become memory only when
/// first written, so a large reservation costs nothing until it is used. Because the block never
/// moves, a node's address stays valid for the life of the tree, growth never copies, and a
/// snapshot loads with one `read` per arena. Past the first 32 MiB the block asks for transparent
/// huge pages, which cuts TLB misses on random lookups in a large index.
struct Arena {
    /// The first byte of the block.
    let base: UnsafeMutableRawPointer
    /// Bytes of address space reserved.
    let capacity: Int
    /// Bytes handed out so far, from `base`.
    var used: Int

    /// Where huge pages start being requested.
    static let hugePageThreshold = 2 << 20

    /// Reserves `capacity` bytes; `reservedPrefix` bytes at the front are never handed out (so that
    /// offset 0 can mean "none").
    init(capacity: Int, reservedPrefix: Int) throws(IndexError) {
        #if canImport(Glibc)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #else
        let flags = MAP_PRIVATE | MAP_ANON
        #endif
        guard let pointer = mmap(nil, capacity, PROT_READ | PROT_WRITE, flags, -1, 0),
            pointer != MAP_FAILED
        else {
            throw IndexError(.outOfAddressSpace, "could not reserve \(capacity >> 20) MiB: errno \(errno)")
        }
        #if canImport(Glibc)
        if capacity > Self.hugePageThreshold {
            _ = madvise(pointer + Self.hugePageThreshold, capacity - Self.hugePageThreshold, MADV_HUGEPAGE)
        }
        #endif
        base = pointer
        self.capacity = capacity
        used = reservedPrefix
    }

    /// Hands out `size` bytes; `nil` when the block is full.
    @inline(__always)
    mutating func allocate(_ size: Int) -> Int? {
        let offset = used
        guard capacity - offset >= size else { return nil }
        used = offset + size
        return offset
    }

    /// Returns the whole block to the system.
    func release() {
        munmap(base, capacity)
    }

    /// Gives the pages past `used` back to the system (after a large removal or a failed load).
    mutating func discard(from offset: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        if start < capacity {
            #if canImport(Glibc)
            _ = madvise(base + start, capacity - start, MADV_DONTNEED)
            #endif
        }
        used = offset
    }
}

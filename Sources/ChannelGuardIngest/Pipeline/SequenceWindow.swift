/// Which frame sequences of one gateway a pipeline shard has taken: the highest, and which of the
/// `width` sequences up to it (an anti-replay window, as IPsec keeps one). A pure value, tested
/// without I/O.
///
/// A frame above the highest is new and moves the window up; one inside the window is new once
/// (a datagram the network reordered) and a duplicate after that (a resend, or a datagram the
/// network duplicated); one below the window can no longer be told apart and is refused on its
/// own reason (``Verdict/belowWindow``), never stored a second time.
///
/// The bits are a ring: sequence `s` lives at bit `s % width`, so moving the window up by one
/// clears one bit instead of shifting the whole map.
public struct SequenceWindow: Sendable, Hashable {
    /// Sequences the window spans. At 75,000 frames a second from one gateway (one event a
    /// datagram at 300,000/s over four senders), 55 ms of its traffic.
    public static let width: UInt64 = 4096

    public enum Verdict: Sendable, Hashable {
        /// Not seen before: take it.
        case new
        /// Seen before: a resend or a duplicated datagram.
        case duplicate
        /// Older than the window: whether it was seen is no longer known.
        case belowWindow
    }

    /// The highest sequence taken (0: none).
    public private(set) var top: UInt64
    private var bits: [UInt64]

    /// A window whose every sequence up to `top` counts as seen: the state after a start, from the
    /// highest sequence stored (frames below it that never arrived stay refused).
    public init(top: UInt64 = 0) {
        self.top = top
        bits = [UInt64](repeating: top == 0 ? 0 : .max, count: Int(Self.width / 64))
    }

    /// Takes `sequence` (1 or more) if it is new.
    public mutating func take(_ sequence: UInt64) -> Verdict {
        if sequence > top {
            let advance = sequence - top
            if advance >= Self.width {
                for word in bits.indices { bits[word] = 0 }
            } else {
                var unseen = top &+ 1
                while unseen < sequence {
                    clear(unseen)
                    unseen += 1
                }
            }
            set(sequence)
            top = sequence
            return .new
        }
        guard top - sequence < Self.width else { return .belowWindow }
        if isSet(sequence) { return .duplicate }
        set(sequence)
        return .new
    }

    /// Forgets a sequence taken earlier whose frame was not stored after all, so that its resend is
    /// new again. Returns `false` when the sequence has fallen below the window meanwhile (its resend
    /// will be refused as ``Verdict/belowWindow``).
    @discardableResult
    public mutating func forget(_ sequence: UInt64) -> Bool {
        guard sequence <= top, top - sequence < Self.width else { return false }
        clear(sequence)
        return true
    }

    @inline(__always)
    private func isSet(_ sequence: UInt64) -> Bool {
        let bit = sequence % Self.width
        return bits[Int(bit / 64)] & (1 << (bit % 64)) != 0
    }

    @inline(__always)
    private mutating func set(_ sequence: UInt64) {
        let bit = sequence % Self.width
        bits[Int(bit / 64)] |= 1 << (bit % 64)
    }

    @inline(__always)
    private mutating func clear(_ sequence: UInt64) {
        let bit = sequence % Self.width
        bits[Int(bit / 64)] &= ~(1 << (bit % 64))
    }
}

import ChannelGuardDetection
import Synchronization

/// The reference data in force, replaced whole when the database changes. Readers take the
/// current value once per batch (a short lock), never per event; a reader that keeps a copy of
/// its own checks ``generation`` (one atomic load, of memory written only on a change) to know
/// when to take it again.
public final class ReferenceDataStore: Sendable {
    private let value: Mutex<ReferenceData>
    private let replacements = Atomic<Int>(0)

    public init(_ initial: ReferenceData) {
        value = Mutex(initial)
    }

    public var current: ReferenceData { value.withLock { $0 } }

    /// How many times the data has been replaced; it changes after ``current`` does.
    public var generation: Int { replacements.load(ordering: .acquiring) }

    public func replace(with data: ReferenceData) {
        value.withLock { $0 = data }
        replacements.add(1, ordering: .releasing)
    }
}

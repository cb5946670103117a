import Synchronization

/// The reference data in force, replaced whole when the database changes. Readers take the
/// current value once per frame or batch (a short uncontended lock), never per event.
public final class ReferenceDataStore: Sendable {
    private let value: Mutex<ReferenceData>

    public init(_ initial: ReferenceData) {
        value = Mutex(initial)
    }

    public var current: ReferenceData { value.withLock { $0 } }

    public func replace(with data: ReferenceData) {
        value.withLock { $0 = data }
    }
}

/// An error from the serial index: a code callers can switch on, and a message for people.
///
/// Codes are values of an open set, so new ones can be added without breaking callers.
public struct IndexError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The process could not reserve address space for an arena.
        public static let outOfAddressSpace = Code("out_of_address_space")
        /// An arena of one shard is full (more nodes or leaves than its references can address).
        public static let capacityExceeded = Code("capacity_exceeded")
        /// A key does not have the canonical form (GTIN check digit, serial characters, length).
        public static let invalidKey = Code("invalid_key")
        /// A binding field is too large for its packed width (distributor, shipment, time).
        public static let valueOutOfRange = Code("value_out_of_range")
        /// A snapshot file could not be read or written.
        public static let snapshotIO = Code("snapshot_io")
        /// A snapshot file does not start with the snapshot magic.
        public static let snapshotNotASnapshot = Code("snapshot_not_a_snapshot")
        /// A snapshot was written by another format version or key encoding.
        public static let snapshotVersion = Code("snapshot_version")
        /// A snapshot is shorter or longer than its header says.
        public static let snapshotTruncated = Code("snapshot_truncated")
        /// A snapshot's checksum does not match its contents.
        public static let snapshotChecksum = Code("snapshot_checksum")
        /// A snapshot's header describes an impossible tree (a root or free list out of bounds).
        public static let snapshotStructure = Code("snapshot_structure")
        /// A snapshot is older than the bindings it was built from.
        public static let snapshotStale = Code("snapshot_stale")
        /// A snapshot was built from another database.
        public static let snapshotForeign = Code("snapshot_foreign")
        /// A snapshot was built for another shard count.
        public static let snapshotShape = Code("snapshot_shape")
        /// A row read from the bindings tables could not be turned into a binding.
        public static let rebuildRow = Code("rebuild_row")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

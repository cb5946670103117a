extension ScanBatch {
    /// The columns of a batch: one allocation per field, grown by doubling, freed with the object.
    ///
    /// `@unchecked Sendable`: a batch writes only to storage it holds alone (it copies shared
    /// storage first), so storage reachable from two places is never written.
    /// Where the columns are: plain pointers, read from the storage object once per append (each
    /// access to a class property is checked for exclusivity at run time; one access is cheap,
    /// fourteen per event were not).
    struct Columns {
        var steps: UnsafeMutablePointer<ScanStep>
        var regions: UnsafeMutablePointer<UInt32>
        var times: UnsafeMutablePointer<Int64>
        var kinds: UnsafeMutablePointer<KeyKind>
        var keys: UnsafeMutablePointer<UInt64>
        var serials: UnsafeMutablePointer<TextRange>
        var prices: UnsafeMutablePointer<Int64>
        var parties: UnsafeMutablePointer<TextRange>
        var devices: UnsafeMutablePointer<TextRange>
        var sequences: UnsafeMutablePointer<UInt64>
        var latitudes: UnsafeMutablePointer<Int32>
        var longitudes: UnsafeMutablePointer<Int32>
        var records: UnsafeMutablePointer<Int32>
        var text: UnsafeMutablePointer<UInt8>

        init(capacity: Int, textCapacity: Int) {
            self.init(capacity: capacity, text: .allocate(capacity: textCapacity))
        }

        /// New event columns of `capacity`, adopting an existing text arena.
        init(capacity: Int, text: UnsafeMutablePointer<UInt8>) {
            self.text = text
            steps = .allocate(capacity: capacity)
            regions = .allocate(capacity: capacity)
            times = .allocate(capacity: capacity)
            kinds = .allocate(capacity: capacity)
            keys = .allocate(capacity: capacity)
            serials = .allocate(capacity: capacity)
            prices = .allocate(capacity: capacity)
            parties = .allocate(capacity: capacity)
            devices = .allocate(capacity: capacity)
            sequences = .allocate(capacity: capacity)
            latitudes = .allocate(capacity: capacity)
            longitudes = .allocate(capacity: capacity)
            records = .allocate(capacity: capacity)
        }

        /// Frees every block. Every element type is trivial: nothing to deinitialise.
        func deallocate() {
            deallocateEventColumns()
            text.deallocate()
        }

        /// Frees the event columns, not the text arena.
        func deallocateEventColumns() {
            steps.deallocate()
            regions.deallocate()
            times.deallocate()
            kinds.deallocate()
            keys.deallocate()
            serials.deallocate()
            prices.deallocate()
            parties.deallocate()
            devices.deallocate()
            sequences.deallocate()
            latitudes.deallocate()
            longitudes.deallocate()
            records.deallocate()
        }

        /// Writes one event at `index` and its text at `text` (advanced past it). The caller has made
        /// room for both.
        @inline(__always)
        func write(
            _ event: Fields,
            serial: UnsafeBufferPointer<UInt8>,
            party: UnsafeBufferPointer<UInt8>,
            device: UnsafeBufferPointer<UInt8>,
            record: Int32,
            at index: Int,
            text textEnd: inout Int
        ) {
            @inline(__always) func store(_ bytes: UnsafeBufferPointer<UInt8>) -> TextRange {
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return .empty }
                let start = textEnd
                let target = text + start
                if bytes.count <= 32 {
                    // Serials, parties and devices are short: a few overlapping word copies beat a
                    // call to memmove and a byte loop.
                    Self.copyShort(UnsafeRawPointer(base), UnsafeMutableRawPointer(target), bytes.count)
                } else {
                    target.update(from: base, count: bytes.count)
                }
                textEnd = start + bytes.count
                return TextRange(start: UInt32(start), end: UInt32(textEnd))
            }
            steps[index] = event.step
            regions[index] = event.region
            times[index] = event.time
            kinds[index] = event.kind
            keys[index] = event.key
            serials[index] = store(serial)
            prices[index] = event.price
            parties[index] = store(party)
            devices[index] = store(device)
            sequences[index] = event.sequence
            latitudes[index] = event.latitude
            longitudes[index] = event.longitude
            records[index] = record
        }

        /// Copies `count` bytes with unaligned 8- or 4-byte loads and stores that may overlap, never
        /// touching a byte outside `target[0..<count]`.
        @inline(__always)
        static func copyShort(_ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int) {
            func copy<Word: FixedWidthInteger>(_: Word.Type, at offset: Int) {
                target.storeBytes(
                    of: source.loadUnaligned(fromByteOffset: offset, as: Word.self),
                    toByteOffset: offset,
                    as: Word.self
                )
            }
            if count >= 8 {
                var offset = 0
                while offset + 8 < count {
                    copy(UInt64.self, at: offset)
                    offset += 8
                }
                copy(UInt64.self, at: count - 8)
            } else if count >= 4 {
                copy(UInt32.self, at: 0)
                copy(UInt32.self, at: count - 4)
            } else {
                for offset in 0..<count { copy(UInt8.self, at: offset) }
            }
        }

        /// Copies the first `events` events from `other`.
        func copyEvents(from other: Columns, count events: Int) {
            steps.update(from: other.steps, count: events)
            regions.update(from: other.regions, count: events)
            times.update(from: other.times, count: events)
            kinds.update(from: other.kinds, count: events)
            keys.update(from: other.keys, count: events)
            serials.update(from: other.serials, count: events)
            prices.update(from: other.prices, count: events)
            parties.update(from: other.parties, count: events)
            devices.update(from: other.devices, count: events)
            sequences.update(from: other.sequences, count: events)
            latitudes.update(from: other.latitudes, count: events)
            longitudes.update(from: other.longitudes, count: events)
            records.update(from: other.records, count: events)
        }
    }

    /// The columns of a batch: one allocation per field, grown by doubling, freed with the object.
    ///
    /// `@unchecked Sendable`: a batch writes only to storage it holds alone (it copies shared
    /// storage first), so storage reachable from two places is never written.
    final class Storage: @unchecked Sendable {
        var count = 0
        private(set) var capacity: Int
        var textCount = 0
        private(set) var textCapacity: Int
        private(set) var columns: Columns

        init(capacity: Int, textCapacity: Int) {
            self.capacity = capacity
            self.textCapacity = textCapacity
            columns = Columns(capacity: capacity, textCapacity: textCapacity)
        }

        deinit { columns.deallocate() }

        /// An unshared copy with the same capacity.
        func copy() -> Storage {
            let copy = Storage(capacity: capacity, textCapacity: textCapacity)
            copy.columns.copyEvents(from: columns, count: count)
            copy.columns.text.update(from: columns.text, count: textCount)
            copy.count = count
            copy.textCount = textCount
            return copy
        }

        /// Moves the columns to blocks of `minimum` events or more.
        func grow(to minimum: Int) {
            guard minimum > capacity else { return }
            let larger = Columns(capacity: minimum, text: columns.text)
            larger.copyEvents(from: columns, count: count)
            columns.deallocateEventColumns()
            columns = larger
            capacity = minimum
        }

        /// Moves the text arena to a block of `minimum` bytes or more.
        func growText(to minimum: Int) {
            guard minimum > textCapacity else { return }
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: minimum)
            larger.update(from: columns.text, count: textCount)
            columns.text.deallocate()
            columns.text = larger
            textCapacity = minimum
        }
    }

    /// One column of a batch, read-only: a random-access view that keeps the storage alive.
    public struct Column<Element>: RandomAccessCollection, @unchecked Sendable {
        private let storage: Storage
        private let base: UnsafePointer<Element>
        public let endIndex: Int

        init(_ storage: Storage, _ base: UnsafeMutablePointer<Element>, count: Int? = nil) {
            self.storage = storage
            self.base = UnsafePointer(base)
            self.endIndex = count ?? storage.count
        }

        public var startIndex: Int { 0 }

        public subscript(position: Int) -> Element {
            precondition(position >= 0 && position < endIndex, "index out of range")
            return base[position]
        }

        /// The column's memory, for loops that must not pay for bounds checks.
        public func withUnsafeBufferPointer<R, E>(
            _ body: (UnsafeBufferPointer<Element>) throws(E) -> R
        ) throws(E) -> R {
            try withExtendedLifetime(storage) { () throws(E) -> R in
                try body(UnsafeBufferPointer(start: base, count: endIndex))
            }
        }
    }
}

extension ScanBatch.Column: Equatable where Element: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.elementsEqual(rhs) }

    public static func == (lhs: Self, rhs: [Element]) -> Bool { lhs.elementsEqual(rhs) }
}

extension ScanBatch.Column: CustomStringConvertible {
    public var description: String { Array(self).description }
}

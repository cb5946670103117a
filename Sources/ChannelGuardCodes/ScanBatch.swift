/// Decoded scan events in columns: one contiguous block per field, so a batch of thousands of
/// events is a handful of allocations, and the pipeline reads each column in a tight loop.
///
/// Variable-length text (serials, parties, devices) lives in one byte arena with end offsets.
/// The columns share one storage object: appending checks its uniqueness once per event (not once
/// per column, as thirteen arrays did) and, once the batch has reached its working size, neither
/// appending nor ``removeAll()`` allocates. Copies of a batch share storage until one of them is
/// changed (copy on write), like the standard collections.
public struct ScanBatch: Sendable {
    /// What the code names.
    public enum KeyKind: UInt8, Sendable {
        /// GTIN-14 + serial.
        case item = 1
        /// SSCC-18.
        case logisticUnit = 2
    }

    /// A slice of ``text``.
    public struct TextRange: Hashable, Sendable {
        public var start: UInt32
        public var end: UInt32
        public static let empty = TextRange(start: 0, end: 0)
    }

    private var storage: Storage
    /// Records that were rejected, with why and where.
    public private(set) var rejections: [(record: Int32, rejection: CodeRejection)] = []

    public init() {
        storage = Storage(capacity: 0, textCapacity: 0)
    }

    public var count: Int { storage.count }

    public var steps: Column<ScanStep> { Column(storage, storage.columns.steps) }
    /// GB/T 2260 region codes (6-digit value).
    public var regions: Column<UInt32> { Column(storage, storage.columns.regions) }
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var times: Column<Int64> { Column(storage, storage.columns.times) }
    public var kinds: Column<KeyKind> { Column(storage, storage.columns.kinds) }
    /// The GTIN-14 (items) or SSCC-18 (logistic units) as a number: both fit 64 bits.
    public var keys: Column<UInt64> { Column(storage, storage.columns.keys) }
    /// Serial of each item (empty for logistic units), in ``text``.
    public var serials: Column<TextRange> { Column(storage, storage.columns.serials) }
    /// Price in fen (1/100 CNY); -1 when not reported.
    public var prices: Column<Int64> { Column(storage, storage.columns.prices) }
    public var parties: Column<TextRange> { Column(storage, storage.columns.parties) }
    public var devices: Column<TextRange> { Column(storage, storage.columns.devices) }
    /// Gateway sequence number; 0 when not reported.
    public var sequences: Column<UInt64> { Column(storage, storage.columns.sequences) }
    /// Latitude and longitude in micro-degrees; `Int32.min` when not reported.
    public var latitudes: Column<Int32> { Column(storage, storage.columns.latitudes) }
    public var longitudes: Column<Int32> { Column(storage, storage.columns.longitudes) }
    /// The record (line or frame record) each event came from, counting from 0.
    public var records: Column<Int32> { Column(storage, storage.columns.records) }
    /// The arena holding serials, parties and devices.
    public var text: Column<UInt8> { Column(storage, storage.columns.text, count: storage.textCount) }

    /// Calls `body` with the bytes of a text field, in place (no `String` is built).
    public func withText<Result>(
        _ range: TextRange,
        _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result {
        try withExtendedLifetime(storage) {
            try body(
                UnsafeBufferPointer(start: storage.columns.text + Int(range.start), count: Int(range.end - range.start))
            )
        }
    }

    /// The string a range names.
    public func string(_ range: TextRange) -> String {
        withText(range) { String(decoding: $0, as: UTF8.self) }
    }

    /// One event's fields, for appending.
    public struct Event: Sendable {
        public var step: ScanStep
        public var region: UInt32
        public var time: Int64
        public var kind: KeyKind
        public var key: UInt64
        public var serial: ArraySlice<UInt8> = []
        public var price: Int64 = -1
        public var party: ArraySlice<UInt8> = []
        public var device: ArraySlice<UInt8> = []
        public var sequence: UInt64 = 0
        public var latitude: Int32 = .min
        public var longitude: Int32 = .min

        public init(step: ScanStep, region: UInt32, time: Int64, kind: KeyKind, key: UInt64) {
            self.step = step
            self.region = region
            self.time = time
            self.kind = kind
            self.key = key
        }
    }

    /// An event's fixed-size fields: what the decoders fill in before appending, with no
    /// reference-counted member to retain and release per event (``Event`` carries its text).
    struct Fields {
        var step: ScanStep = .ship
        var region: UInt32 = 0
        var time: Int64 = 0
        var kind: KeyKind = .item
        var key: UInt64 = 0
        var price: Int64 = -1
        var sequence: UInt64 = 0
        var latitude: Int32 = .min
        var longitude: Int32 = .min

        init() {}

        init(step: ScanStep, region: UInt32, time: Int64, kind: KeyKind, key: UInt64) {
            self.step = step
            self.region = region
            self.time = time
            self.kind = kind
            self.key = key
        }

        init(_ event: Event) {
            self.init(step: event.step, region: event.region, time: event.time, kind: event.kind, key: event.key)
            price = event.price
            sequence = event.sequence
            latitude = event.latitude
            longitude = event.longitude
        }
    }

    public mutating func append(_ event: Event, record: Int32) {
        event.serial.withUnsafeBufferPointer { serial in
            event.party.withUnsafeBufferPointer { party in
                event.device.withUnsafeBufferPointer { device in
                    append(event, serial: serial, party: party, device: device, record: record)
                }
            }
        }
    }

    /// Appends an event whose text fields are read straight from the input bytes (no copies on the way).
    public mutating func append(
        _ event: Event,
        serial: UnsafeBufferPointer<UInt8>,
        party: UnsafeBufferPointer<UInt8>,
        device: UnsafeBufferPointer<UInt8>,
        record: Int32
    ) {
        append(Fields(event), serial: serial, party: party, device: device, record: record)
    }

    @inline(__always)
    mutating func append(
        _ event: Fields,
        serial: UnsafeBufferPointer<UInt8>,
        party: UnsafeBufferPointer<UInt8>,
        device: UnsafeBufferPointer<UInt8>,
        record: Int32
    ) {
        let storage = writableStorage(events: 1, text: serial.count + party.count + device.count)
        var textCount = storage.textCount
        storage.columns.write(
            event,
            serial: serial,
            party: party,
            device: device,
            record: record,
            at: storage.count,
            text: &textCount
        )
        storage.count += 1
        storage.textCount = textCount
    }

    /// Appends event `index` of `other` as it is (a router splitting a batch by shard).
    @inline(__always)
    public mutating func append(eventAt index: Int, of other: ScanBatch) {
        let source = other.storage.columns
        var fields = Fields(
            step: source.steps[index],
            region: source.regions[index],
            time: source.times[index],
            kind: source.kinds[index],
            key: source.keys[index]
        )
        fields.price = source.prices[index]
        fields.sequence = source.sequences[index]
        fields.latitude = source.latitudes[index]
        fields.longitude = source.longitudes[index]
        @inline(__always) func text(_ range: TextRange) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: source.text + Int(range.start), count: Int(range.end - range.start))
        }
        withExtendedLifetime(other) {
            append(
                fields,
                serial: text(source.serials[index]),
                party: text(source.parties[index]),
                device: text(source.devices[index]),
                record: source.records[index]
            )
        }
    }

    /// The event at `index`, its text fields copied out (for tools and tests, not the hot path).
    public func event(at index: Int) -> Event {
        var event = Event(
            step: steps[index],
            region: regions[index],
            time: times[index],
            kind: kinds[index],
            key: keys[index]
        )
        func bytes(_ range: TextRange) -> ArraySlice<UInt8> { ArraySlice(text[Int(range.start)..<Int(range.end)]) }
        event.serial = bytes(serials[index])
        event.price = prices[index]
        event.party = bytes(parties[index])
        event.device = bytes(devices[index])
        event.sequence = sequences[index]
        event.latitude = latitudes[index]
        event.longitude = longitudes[index]
        return event
    }

    public mutating func reject(record: Int32, _ rejection: CodeRejection) {
        rejections.append((record, rejection))
    }

    /// Makes room for `events` more events and `textBytes` more bytes of text without growing again.
    public mutating func reserveCapacity(events: Int, textBytes: Int) {
        _ = writableStorage(events: events, text: textBytes)
    }

    /// Empties the batch, keeping its capacity for the next one.
    public mutating func removeAll() {
        if isKnownUniquelyReferenced(&storage) {
            storage.count = 0
            storage.textCount = 0
        } else {
            storage = Storage(capacity: storage.capacity, textCapacity: storage.textCapacity)
        }
        rejections.removeAll(keepingCapacity: true)
    }

    /// The storage, unshared and with room for `events` more events and `text` more bytes; it grows
    /// by doubling, so appending one event at a time stays amortised constant.
    @inline(__always)
    private mutating func writableStorage(events: Int, text: Int) -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        let storage = storage
        if storage.count + events > storage.capacity {
            storage.grow(to: max(64, storage.capacity * 2, storage.count + events))
        }
        if storage.textCount + text > storage.textCapacity {
            storage.growText(to: max(1_024, storage.textCapacity * 2, storage.textCount + text))
        }
        return storage
    }
}

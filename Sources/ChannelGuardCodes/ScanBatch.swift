/// Decoded scan events in columns: one array per field, so a batch of thousands of events is a
/// handful of allocations, and the pipeline reads each column in a tight loop.
///
/// Variable-length text (serials, parties, devices) lives in one byte arena with end offsets.
public struct ScanBatch: Sendable {
    /// What the code names.
    public enum KeyKind: UInt8, Sendable {
        /// GTIN-14 + serial.
        case item = 1
        /// SSCC-18.
        case logisticUnit = 2
    }

    public private(set) var steps: [ScanStep] = []
    /// GB/T 2260 region codes (6-digit value).
    public private(set) var regions: [UInt32] = []
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public private(set) var times: [Int64] = []
    public private(set) var kinds: [KeyKind] = []
    /// The GTIN-14 (items) or SSCC-18 (logistic units) as a number: both fit 64 bits.
    public private(set) var keys: [UInt64] = []
    /// Serial of each item (empty for logistic units), in ``text``.
    public private(set) var serials: [TextRange] = []
    /// Price in fen (1/100 CNY); -1 when not reported.
    public private(set) var prices: [Int64] = []
    public private(set) var parties: [TextRange] = []
    public private(set) var devices: [TextRange] = []
    /// Gateway sequence number; 0 when not reported.
    public private(set) var sequences: [UInt64] = []
    /// Latitude and longitude in micro-degrees; `Int32.min` when not reported.
    public private(set) var latitudes: [Int32] = []
    public private(set) var longitudes: [Int32] = []
    /// The record (line or frame record) each event came from, counting from 0.
    public private(set) var records: [Int32] = []
    /// The arena holding serials, parties and devices.
    public private(set) var text: [UInt8] = []
    /// Records that were rejected, with why and where.
    public private(set) var rejections: [(record: Int32, rejection: CodeRejection)] = []

    /// A slice of ``text``.
    public struct TextRange: Hashable, Sendable {
        public var start: UInt32
        public var end: UInt32
        public static let empty = TextRange(start: 0, end: 0)
    }

    public init() {}

    public var count: Int { steps.count }

    /// The string a range names.
    public func string(_ range: TextRange) -> String {
        String(decoding: text[Int(range.start)..<Int(range.end)], as: UTF8.self)
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

    public mutating func append(_ event: Event, record: Int32) {
        steps.append(event.step)
        regions.append(event.region)
        times.append(event.time)
        kinds.append(event.kind)
        keys.append(event.key)
        serials.append(store(event.serial))
        prices.append(event.price)
        parties.append(store(event.party))
        devices.append(store(event.device))
        sequences.append(event.sequence)
        latitudes.append(event.latitude)
        longitudes.append(event.longitude)
        records.append(record)
    }

    /// Appends an event whose text fields are read straight from the input bytes (no copies on the way).
    public mutating func append(
        _ event: Event,
        serial: UnsafeBufferPointer<UInt8>,
        party: UnsafeBufferPointer<UInt8>,
        device: UnsafeBufferPointer<UInt8>,
        record: Int32
    ) {
        steps.append(event.step)
        regions.append(event.region)
        times.append(event.time)
        kinds.append(event.kind)
        keys.append(event.key)
        serials.append(store(serial))
        prices.append(event.price)
        parties.append(store(party))
        devices.append(store(device))
        sequences.append(event.sequence)
        latitudes.append(event.latitude)
        longitudes.append(event.longitude)
        records.append(record)
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

    /// Empties the batch, keeping its capacity for the next one.
    public mutating func removeAll() {
        steps.removeAll(keepingCapacity: true)
        regions.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        serials.removeAll(keepingCapacity: true)
        prices.removeAll(keepingCapacity: true)
        parties.removeAll(keepingCapacity: true)
        devices.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        latitudes.removeAll(keepingCapacity: true)
        longitudes.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        text.removeAll(keepingCapacity: true)
        rejections.removeAll(keepingCapacity: true)
    }

    private mutating func store(_ bytes: UnsafeBufferPointer<UInt8>) -> TextRange {
        guard !bytes.isEmpty else { return .empty }
        let start = UInt32(text.count)
        text.append(contentsOf: bytes)
        return TextRange(start: start, end: UInt32(text.count))
    }

    private mutating func store(_ bytes: ArraySlice<UInt8>) -> TextRange {
        guard !bytes.isEmpty else { return .empty }
        let start = UInt32(text.count)
        text.append(contentsOf: bytes)
        return TextRange(start: start, end: UInt32(text.count))
    }
}

/// The event log's batch format (`scan_batches.payload` before zstd, `format_version` 1): the
/// columns of a ``ScanBatch`` written one after another, so that zstd sees long runs of similar
/// values. Little-endian throughout; specified in docs/schema.md.
///
///     offset  size       field
///     0       4          magic "CGLB"
///     4       1          format version = 1
///     5       3          zero
///     8       4          event count N
///     12      4          text bytes T
///     16      N          steps (wire codes 0–5)
///             N          key kinds (1 item, 2 logistic unit)
///             4N         regions
///             8N         times (Unix milliseconds)
///             8N         keys (GTIN-14 or SSCC-18 as numbers)
///             8N         prices (fen, -1 when absent)
///             8N         event sequences
///             4N + 4N    latitudes, longitudes (micro-degrees, Int32.min when absent)
///             4N         gateway ids (0 for an unauthenticated source)
///             3N         lengths of serial, party and device, per event
///             T          their bytes, in event order
public enum ScanLogFormat {
    public static let version: Int16 = 1
    static let magic: [UInt8] = Array("CGLB".utf8)
    static let headerBytes = 16
    /// Bytes per event outside the text.
    static let fixedBytesPerEvent = 1 + 1 + 4 + 8 + 8 + 8 + 8 + 4 + 4 + 4 + 3

    /// A payload that is not a batch in this format.
    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let reason: String
        public var description: String { "bad log batch at byte \(offset): \(reason)" }
    }
}

extension ScanLogFormat {
    /// A run of events of one batch, all from one gateway.
    public typealias Part = (batch: ScanBatch, gateway: UInt32, range: Range<Int>)

    /// Batches (each from one gateway) as one log-format payload, events in order.
    public static func payload(_ parts: [(batch: ScanBatch, gateway: UInt32)]) -> [UInt8] {
        payload(parts.map { ($0.batch, $0.gateway, 0..<$0.batch.count) })
    }

    /// Runs of events as one log-format payload, in order.
    public static func payload(_ parts: [Part]) -> [UInt8] {
        let n = parts.reduce(0) { $0 + $1.range.count }
        var textBytes = 0
        for (batch, _, range) in parts {
            let serials = batch.serials
            let parties = batch.parties
            let devices = batch.devices
            for index in range {
                textBytes += serials[index].length + parties[index].length + devices[index].length
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(headerBytes + n * fixedBytesPerEvent + textBytes)
        out.append(contentsOf: magic)
        out.append(contentsOf: [UInt8(version), 0, 0, 0])
        out.appendLittleEndian(UInt32(n))
        out.appendLittleEndian(UInt32(textBytes))
        for (batch, _, range) in parts {
            let steps = batch.steps
            for index in range { out.append(BinaryFrame.stepCode(steps[index])) }
        }
        for (batch, _, range) in parts {
            let kinds = batch.kinds
            for index in range { out.append(kinds[index].rawValue) }
        }
        appendColumns(parts, { $0.regions }, to: &out)
        appendColumns(parts, { $0.times }, to: &out)
        appendColumns(parts, { $0.keys }, to: &out)
        appendColumns(parts, { $0.prices }, to: &out)
        appendColumns(parts, { $0.sequences }, to: &out)
        appendColumns(parts, { $0.latitudes }, to: &out)
        appendColumns(parts, { $0.longitudes }, to: &out)
        for (_, gateway, range) in parts {
            for _ in range { out.appendLittleEndian(gateway) }
        }
        for (batch, _, range) in parts {
            let serials = batch.serials
            let parties = batch.parties
            let devices = batch.devices
            for index in range {
                out.append(UInt8(serials[index].length))
                out.append(UInt8(parties[index].length))
                out.append(UInt8(devices[index].length))
            }
        }
        for (batch, _, range) in parts {
            let serials = batch.serials
            let parties = batch.parties
            let devices = batch.devices
            batch.text.withUnsafeBufferPointer { text in
                func append(_ range: ScanBatch.TextRange) {
                    out.append(contentsOf: text[Int(range.start)..<Int(range.end)])
                }
                for index in range {
                    append(serials[index])
                    append(parties[index])
                    append(devices[index])
                }
            }
        }
        return out
    }

    /// Appends one integer column of every part, little-endian: on a little-endian machine the
    /// column's memory as it is, in one copy (appending value by value cost the writer a third of
    /// its time). The column is picked by a closure, not a key path: a key path is projected at
    /// run time, and with one event per datagram (a part per event) that cost the writer half its
    /// time.
    static func appendColumns<T: FixedWidthInteger>(
        _ parts: [Part],
        _ column: (ScanBatch) -> ScanBatch.Column<T>,
        to out: inout [UInt8]
    ) {
        for (batch, _, range) in parts {
            column(batch).withUnsafeBufferPointer { values in
                let run = UnsafeBufferPointer(rebasing: values[range])
                #if _endian(little)
                out.append(contentsOf: UnsafeRawBufferPointer(run))
                #else
                for value in run { out.appendLittleEndian(value) }
                #endif
            }
        }
    }
}

extension ScanBatch {
    /// Reads a log-format payload back into a batch and its gateway ids. Every field is checked,
    /// so a damaged payload is refused with where and why, never read out of bounds.
    public static func fromLogPayload(
        _ bytes: [UInt8]
    ) throws(ScanLogFormat.Malformed) -> (batch: ScanBatch, gateways: [UInt32]) {
        var reader = LogReader(bytes: bytes)
        guard bytes.count >= ScanLogFormat.headerBytes, Array(bytes[0..<4]) == ScanLogFormat.magic else {
            throw ScanLogFormat.Malformed(offset: 0, reason: "no CGLB header")
        }
        guard bytes[4] == UInt8(ScanLogFormat.version) else {
            throw ScanLogFormat.Malformed(offset: 4, reason: "format version \(bytes[4]); this build reads 1")
        }
        // Reserved, written as zero: a payload must read back as exactly what was written.
        if let reserved = (5..<8).first(where: { bytes[$0] != 0 }) {
            throw ScanLogFormat.Malformed(offset: reserved, reason: "reserved header byte is not zero")
        }
        reader.offset = 8
        let n = Int(try reader.read(UInt32.self))
        let textBytes = Int(try reader.read(UInt32.self))
        guard
            n.multipliedReportingOverflow(by: ScanLogFormat.fixedBytesPerEvent).partialValue + textBytes
                + ScanLogFormat.headerBytes == bytes.count, n <= 1 << 26
        else {
            throw ScanLogFormat.Malformed(
                offset: 8,
                reason: "\(n) events and \(textBytes) text bytes do not fill \(bytes.count) bytes"
            )
        }
        let stepsAt = reader.offset
        let kindsAt = stepsAt + n
        reader.offset = kindsAt + n
        let regions = try reader.column(UInt32.self, n)
        let times = try reader.column(Int64.self, n)
        let keys = try reader.column(UInt64.self, n)
        let prices = try reader.column(Int64.self, n)
        let sequences = try reader.column(UInt64.self, n)
        let latitudes = try reader.column(Int32.self, n)
        let longitudes = try reader.column(Int32.self, n)
        let gateways = try reader.column(UInt32.self, n)
        let lengthsAt = reader.offset
        var textAt = lengthsAt + 3 * n
        var batch = ScanBatch()
        batch.reserveCapacity(events: n, textBytes: textBytes)
        for index in 0..<n {
            guard let step = BinaryFrame.step(code: bytes[stepsAt + index]) else {
                throw ScanLogFormat.Malformed(offset: stepsAt + index, reason: "unknown step code")
            }
            guard let kind = KeyKind(rawValue: bytes[kindsAt + index]) else {
                throw ScanLogFormat.Malformed(offset: kindsAt + index, reason: "unknown key kind")
            }
            var event = Event(step: step, region: regions[index], time: times[index], kind: kind, key: keys[index])
            var texts: [ArraySlice<UInt8>] = []
            for field in 0..<3 {
                let length = Int(bytes[lengthsAt + 3 * index + field])
                guard textAt + length <= bytes.count else {
                    throw ScanLogFormat.Malformed(
                        offset: lengthsAt + 3 * index + field,
                        reason: "text runs past the end"
                    )
                }
                texts.append(bytes[textAt..<textAt + length])
                textAt += length
            }
            event.serial = texts[0]
            event.party = texts[1]
            event.device = texts[2]
            event.price = prices[index]
            event.sequence = sequences[index]
            event.latitude = latitudes[index]
            event.longitude = longitudes[index]
            batch.append(event, record: Int32(truncatingIfNeeded: index))
        }
        guard textAt == bytes.count else {
            throw ScanLogFormat.Malformed(offset: textAt, reason: "text lengths do not add up to the text section")
        }
        return (batch, gateways)
    }
}

extension ScanBatch.TextRange {
    var length: Int { Int(end - start) }
}

/// Little-endian reads with bounds checks, for the log format.
private struct LogReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(ScanLogFormat.Malformed) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else {
            throw ScanLogFormat.Malformed(offset: offset, reason: "cut short")
        }
        let value = bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        offset += size
        return value
    }

    mutating func column<T: FixedWidthInteger>(_: T.Type, _ count: Int) throws(ScanLogFormat.Malformed) -> [T] {
        var values = [T]()
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try read(T.self)) }
        return values
    }
}

extension Array where Element == UInt8 {
    /// Appends an integer's bytes, least significant first.
    public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

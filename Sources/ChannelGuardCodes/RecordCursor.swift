/// Reads binary records one after another, checking each (layout in docs/protocol.md):
///
///     step u8 · kind u8 (1 item, 2 logistic unit) · region u32 · time i64 (Unix ms) · key u64
///     serial length u8 + serial (items: 1–20 CSET 82 characters; logistic units: 0)
///     fields u8 (bit 0 price, 1 party, 2 device, 3 sequence, 4 position), then the fields present:
///     price i64 (fen) · party length u8 + text · device length u8 + text · sequence u64 · lat i32 + lon i32
struct RecordCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads the next record into `batch` (text fields copied once, straight into its arena), or
    /// returns why it was rejected; a `bad_record` rejection means the cursor cannot go on.
    @inline(__always)
    mutating func next(into batch: inout ScanBatch, record: Int32) -> CodeRejection? {
        var serialRange = 0..<0
        var partyRange = 0..<0
        var deviceRange = 0..<0
        // Filled in place: returning the event in a `Result` copied it twice per record.
        var event = ScanBatch.Fields()
        if let rejection = read(into: &event, serial: &serialRange, party: &partyRange, device: &deviceRange) {
            return rejection
        }
        batch.append(
            event,
            serial: UnsafeBufferPointer(rebasing: bytes[serialRange]),
            party: UnsafeBufferPointer(rebasing: bytes[partyRange]),
            device: UnsafeBufferPointer(rebasing: bytes[deviceRange]),
            record: record
        )
        return nil
    }

    /// Reads one record: first its extent (so that a bad value still lets the next record be
    /// found), then its checks in a fixed order, returning the first that fails.
    @inline(__always)
    private mutating func read(
        into event: inout ScanBatch.Fields,
        serial serialRange: inout Range<Int>,
        party partyRange: inout Range<Int>,
        device deviceRange: inout Range<Int>
    ) -> CodeRejection? {
        let start = position
        // Fixed part: 1 + 1 + 4 + 8 + 8 + 1 bytes.
        guard position + 23 <= bytes.count else { return truncated(start) }
        let stepCode = bytes[position]
        let kindCode = bytes[position + 1]
        let region = WireReader.uint32(bytes, position + 2)
        let time = Int64(bitPattern: WireReader.uint64(bytes, position + 6))
        let key = WireReader.uint64(bytes, position + 14)
        let serialLength = Int(bytes[position + 22])
        position += 23
        guard position + serialLength + 1 <= bytes.count else { return truncated(start) }
        serialRange = position..<position + serialLength
        position += serialLength
        let present = bytes[position]
        position += 1
        guard present & ~BinaryFrame.Field.all == 0 else {
            return CodeRejection(.badRecord, at: position - 1, "unknown field bits")
        }
        var priceAt = -1
        var partyAt = -1
        var deviceAt = -1
        var coordinatesAt = -1
        if present & BinaryFrame.Field.price != 0 {
            guard position + 8 <= bytes.count else { return truncated(start) }
            event.price = Int64(bitPattern: WireReader.uint64(bytes, position))
            priceAt = position
            position += 8
        }
        /// A length byte and that many bytes of text: where the field starts, and its text.
        func text(_ at: inout Int, _ range: inout Range<Int>) -> Bool {
            guard position < bytes.count, position + 1 + Int(bytes[position]) <= bytes.count else { return false }
            at = position
            range = position + 1..<position + 1 + Int(bytes[position])
            position = range.upperBound
            return true
        }
        if present & BinaryFrame.Field.party != 0, !text(&partyAt, &partyRange) { return truncated(start) }
        if present & BinaryFrame.Field.device != 0, !text(&deviceAt, &deviceRange) { return truncated(start) }
        if present & BinaryFrame.Field.sequence != 0 {
            guard position + 8 <= bytes.count else { return truncated(start) }
            event.sequence = WireReader.uint64(bytes, position)
            position += 8
        }
        if present & BinaryFrame.Field.position != 0 {
            guard position + 8 <= bytes.count else { return truncated(start) }
            event.latitude = Int32(bitPattern: WireReader.uint32(bytes, position))
            event.longitude = Int32(bitPattern: WireReader.uint32(bytes, position + 4))
            coordinatesAt = position
            position += 8
        }
        event.region = region
        event.time = time
        event.key = key

        // The extent is known: now judge the values. A problem here is not about the extent, so the
        // next record can still be read.
        if priceAt >= 0, event.price < 0 { return CodeRejection(.badField, at: priceAt, "a negative price") }
        if partyAt >= 0, !LineField.isPartyCode(bytes, partyRange) {
            return CodeRejection(
                .badField,
                at: partyAt,
                "party: a distributor code of 1 to 32 of A–Z, 0–9, '-', '_', not starting with '-'"
            )
        }
        if deviceAt >= 0, !LineField.isDevice(bytes, deviceRange) {
            return CodeRejection(.badField, at: deviceAt, "device: 1 to 64 printable ASCII characters")
        }
        if coordinatesAt >= 0, abs(Int(event.latitude)) > 90_000_000 || abs(Int(event.longitude)) > 180_000_000 {
            return CodeRejection(.badField, at: coordinatesAt, "latitude or longitude out of range")
        }
        guard let step = BinaryFrame.step(code: stepCode) else {
            return CodeRejection(.badStep, at: start, "step code \(stepCode) is not 0–5")
        }
        event.step = step
        guard RegionCodeShape.isValid(region) else {
            return CodeRejection(.badRegion, at: start + 2, "not a GB/T 2260 code")
        }
        guard time >= 0 else { return CodeRejection(.badTime, at: start + 6, "a time before 1970") }
        switch kindCode {
        case ScanBatch.KeyKind.item.rawValue:
            event.kind = .item
            guard Self.hasCheckDigit(key, digits: 14) else {
                return CodeRejection(.badCheckDigit, at: start + 14, "not a GTIN-14 with a valid check digit")
            }
            guard (1...20).contains(serialLength), GS1CharacterSet.cset82.containsAll(bytes, serialRange)
            else {
                return CodeRejection(.badCharset, at: start + 23, "a serial is 1 to 20 CSET 82 characters")
            }
        case ScanBatch.KeyKind.logisticUnit.rawValue:
            event.kind = .logisticUnit
            guard Self.hasCheckDigit(key, digits: 18) else {
                return CodeRejection(.badCheckDigit, at: start + 14, "not an SSCC-18 with a valid check digit")
            }
            guard serialLength == 0 else {
                return CodeRejection(.badValue, at: start + 22, "a logistic unit has no serial")
            }
        default:
            return CodeRejection(.badValue, at: start + 1, "key kind \(kindCode) is not 1 (item) or 2 (logistic unit)")
        }
        return nil
    }

    private func truncated(_ start: Int) -> CodeRejection {
        CodeRejection(.badRecord, at: start, "the record is cut short")
    }

    /// Whether `value`, written with `digits` digits, ends in its GS1 check digit.
    ///
    /// Four digits at a time through a table of their weighted sums, the check digit included
    /// (weights 1, 3, 1, 3 from the right, so a valid number's sum is a multiple of ten): a
    /// digit-by-digit loop was most of the cost of reading a record.
    @inline(__always)
    static func hasCheckDigit(_ value: UInt64, digits: Int) -> Bool {
        var limit: UInt64 = 1
        for _ in 0..<digits { limit &*= 10 }
        guard value < limit else { return false }  // at most 18 digits
        let low = UInt32(truncatingIfNeeded: value % 100_000_000)
        let middle = UInt32(truncatingIfNeeded: value / 100_000_000 % 100_000_000)
        let top = Int(truncatingIfNeeded: value / 10_000_000_000_000_000)  // at most 2 digits
        let sums = weightedSums
        let sum =
            Int(sums[Int(low % 10_000)]) + Int(sums[Int(low / 10_000)]) + Int(sums[Int(middle % 10_000)])
            + Int(sums[Int(middle / 10_000)]) + Int(sums[top])
        return sum % 10 == 0
    }

    /// For each four-digit group `abcd`: `d + 3c + b + 3a`. 10,000 bytes, allocated once and never
    /// freed; a pointer so that reading it needs neither a bounds check nor a retain.
    nonisolated(unsafe) private static let weightedSums: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 10_000)
        for group in 0..<10_000 {
            let ones = group % 10
            let tens = group / 10 % 10
            let hundreds = group / 100 % 10
            let thousands = group / 1_000
            table[group] = UInt8(ones + tens * 3 + hundreds + thousands * 3)
        }
        return UnsafePointer(table)
    }()
}

/// The shape rule of GB/T 2260 codes, on their numeric value.
enum RegionCodeShape {
    static func isValid(_ value: UInt32) -> Bool {
        value >= 100_000 && value <= 999_999 && !((value / 100) % 100 == 0 && value % 100 != 0)
    }
}

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
    mutating func next(into batch: inout ScanBatch, record: Int32) -> CodeRejection? {
        var serialRange = 0..<0
        var partyRange = 0..<0
        var deviceRange = 0..<0
        // Filled in place: returning the event in a `Result` copied it twice per record.
        var event = ScanBatch.Event(step: .ship, region: 0, time: 0, kind: .item, key: 0)
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

    private mutating func read(
        into event: inout ScanBatch.Event,
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
        let serial = UnsafeBufferPointer(rebasing: bytes[serialRange])
        position += serialLength
        let present = bytes[position]
        position += 1
        // The record's extent is known only after its optional fields; read them before judging it.
        event.region = region
        event.time = time
        event.key = key
        var problem: CodeRejection?
        func flag(_ reason: CodeRejection.Reason, _ at: Int, _ message: String) {
            if problem == nil { problem = CodeRejection(reason, at: at, message) }
        }
        if present & ~BinaryFrame.Field.all != 0 {
            return CodeRejection(.badRecord, at: position - 1, "unknown field bits")
        }
        if present & BinaryFrame.Field.price != 0 {
            guard position + 8 <= bytes.count else { return truncated(start) }
            event.price = Int64(bitPattern: WireReader.uint64(bytes, position))
            if event.price < 0 { flag(.badField, position, "a negative price") }
            position += 8
        }
        for bit in [BinaryFrame.Field.party, BinaryFrame.Field.device] where present & bit != 0 {
            guard position < bytes.count else { return truncated(start) }
            let length = Int(bytes[position])
            guard position + 1 + length <= bytes.count else { return truncated(start) }
            let text = UnsafeBufferPointer(rebasing: bytes[position + 1..<position + 1 + length])
            if bit == BinaryFrame.Field.party {
                if !(1...32).contains(length) || !text.allSatisfy(LineField.isPartyCharacter) {
                    flag(.badField, position, "party: a distributor code of 1 to 32 of A–Z, 0–9, '-', '_'")
                }
                partyRange = position + 1..<position + 1 + length
            } else {
                if !(1...64).contains(length) || !text.allSatisfy({ (0x21...0x7E).contains($0) }) {
                    flag(.badField, position, "device: 1 to 64 printable ASCII characters")
                }
                deviceRange = position + 1..<position + 1 + length
            }
            position += 1 + length
        }
        if present & BinaryFrame.Field.sequence != 0 {
            guard position + 8 <= bytes.count else { return truncated(start) }
            event.sequence = WireReader.uint64(bytes, position)
            position += 8
        }
        if present & BinaryFrame.Field.position != 0 {
            guard position + 8 <= bytes.count else { return truncated(start) }
            event.latitude = Int32(bitPattern: WireReader.uint32(bytes, position))
            event.longitude = Int32(bitPattern: WireReader.uint32(bytes, position + 4))
            if abs(Int(event.latitude)) > 90_000_000 || abs(Int(event.longitude)) > 180_000_000 {
                flag(.badField, position, "latitude or longitude out of range")
            }
            position += 8
        }

        if Int(stepCode) < BinaryFrame.steps.count {
            event.step = BinaryFrame.steps[Int(stepCode)]
        } else {
            flag(.badStep, start, "step code \(stepCode) is not 0–5")
        }
        if RegionCodeShape.isValid(region) == false { flag(.badRegion, start + 2, "not a GB/T 2260 code") }
        if time < 0 { flag(.badTime, start + 6, "a time before 1970") }
        switch kindCode {
        case ScanBatch.KeyKind.item.rawValue:
            event.kind = .item
            if !Self.hasCheckDigit(key, digits: 14) {
                flag(.badCheckDigit, start + 14, "not a GTIN-14 with a valid check digit")
            }
            if !(1...20).contains(serialLength)
                || GS1CharacterSet.cset82.firstNonMember(serial, 0..<serialLength) != nil
            {
                flag(.badCharset, start + 23, "a serial is 1 to 20 CSET 82 characters")
            }
        case ScanBatch.KeyKind.logisticUnit.rawValue:
            event.kind = .logisticUnit
            if !Self.hasCheckDigit(key, digits: 18) {
                flag(.badCheckDigit, start + 14, "not an SSCC-18 with a valid check digit")
            }
            if serialLength != 0 { flag(.badRecord, start + 22, "a logistic unit has no serial") }
        default:
            flag(.badRecord, start + 1, "key kind \(kindCode) is not 1 (item) or 2 (logistic unit)")
        }
        if let problem {
            // A problem that is not about the record's extent lets the next record be read.
            return problem.reason == .badRecord
                ? CodeRejection(.badValue, at: problem.offset, problem.message) : problem
        }
        return nil
    }

    private func truncated(_ start: Int) -> CodeRejection {
        CodeRejection(.badRecord, at: start, "the record is cut short")
    }

    /// Whether `value`, written with `digits` digits, ends in its GS1 check digit.
    @inline(__always)
    static func hasCheckDigit(_ value: UInt64, digits: Int) -> Bool {
        var limit: UInt64 = 1
        for _ in 0..<digits { limit &*= 10 }
        guard value < limit else { return false }
        // Two digits a step: the rightmost data digit weighs 3, the one before it 1; leading zeros add nothing.
        var rest = value / 10
        var sum: UInt64 = 0
        while rest != 0 {
            let pair = UInt32(truncatingIfNeeded: rest % 100)
            sum &+= UInt64(pair % 10 * 3 + pair / 10)
            rest /= 100
        }
        return (10 - sum % 10) % 10 == value % 10
    }
}

/// The shape rule of GB/T 2260 codes, on their numeric value.
enum RegionCodeShape {
    static func isValid(_ value: UInt32) -> Bool {
        value >= 100_000 && value <= 999_999 && !((value / 100) % 100 == 0 && value % 100 != 0)
    }
}

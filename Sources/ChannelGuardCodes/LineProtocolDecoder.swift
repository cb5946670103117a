/// Decodes the ChannelGuard line protocol: UTF-8 text, one scan per line, the same over UDP, TCP
/// and files (specified in docs/protocol.md):
///
///     STEP REGION TIME CODE [KEY=VALUE ...]
///     sell 440305 2026-11-23T12:00:00Z (01)06901234567892(21)A1B2 price=1999.00 party=ST-440305
///
/// Fields are separated by spaces or tabs; a trailing CR is ignored; lines starting with `#` and
/// blank lines are skipped. A bad line is rejected with its reason and the byte offset in the line;
/// the lines around it still decode.
public struct LineProtocolDecoder: Sendable {
    /// Explicit limits, so no line can make the decoder do unbounded work.
    public struct Limits: Sendable {
        /// The longest line accepted, in bytes, without its line end.
        public var maximumLineBytes = 1_024
        /// The most fields in a line (4 required + optional ones).
        public var maximumFields = 16
        public init() {}
    }

    public let codes: CodeDecoder
    public var limits: Limits

    public init(codes: CodeDecoder = CodeDecoder(), limits: Limits = Limits()) {
        self.codes = codes
        self.limits = limits
    }

    /// What one line held.
    public enum Line: Sendable {
        /// A comment or blank line.
        case skipped
        case event(ScanBatch.Event, DecodedCode)
    }

    /// Decodes every line of `data` into `batch`; record numbers count lines from `firstRecord`.
    public func decode(_ data: UnsafeBufferPointer<UInt8>, into batch: inout ScanBatch, firstRecord: Int32 = 0) {
        var record = firstRecord
        var start = 0
        while start < data.count {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.count
            switch decodeLine(UnsafeBufferPointer(rebasing: data[start..<end])) {
            case .success(.event(let event, _)): batch.append(event, record: record)
            case .success(.skipped): break
            case .failure(let rejection): batch.reject(record: record, rejection)
            }
            record += 1
            start = end + 1
        }
    }

    /// Decodes one line (without its LF; a trailing CR is dropped here).
    public func decodeLine(_ raw: UnsafeBufferPointer<UInt8>) -> Result<Line, CodeRejection> {
        var length = raw.count
        if length > 0, raw[length - 1] == UInt8(ascii: "\r") { length -= 1 }
        let line = UnsafeBufferPointer(rebasing: raw[0..<length])
        guard line.count <= limits.maximumLineBytes else {
            return .failure(
                CodeRejection(
                    .lineTooLong,
                    at: limits.maximumLineBytes,
                    "lines are limited to \(limits.maximumLineBytes) bytes"
                )
            )
        }
        var fields: [Range<Int>] = []
        var index = 0
        while index < line.count {
            while index < line.count, Self.isBlank(line[index]) { index += 1 }
            guard index < line.count else { break }
            let start = index
            while index < line.count, !Self.isBlank(line[index]) { index += 1 }
            fields.append(start..<index)
            if fields.count > limits.maximumFields {
                return .failure(
                    CodeRejection(.tooManyFields, at: start, "lines have at most \(limits.maximumFields) fields")
                )
            }
        }
        guard let first = fields.first else { return .success(.skipped) }
        if line[first.lowerBound] == UInt8(ascii: "#") { return .success(.skipped) }
        guard fields.count >= 4 else {
            let names = ["step", "region", "time", "code"]
            return .failure(CodeRejection(.missingField, at: line.count, "the \(names[fields.count]) field is missing"))
        }
        do {
            return .success(try decodeFields(line, fields))
        } catch {
            return .failure(error)
        }
    }

    private func decodeFields(_ line: UnsafeBufferPointer<UInt8>, _ fields: [Range<Int>]) throws(CodeRejection) -> Line
    {
        let step = try Self.step(line, fields[0])
        let region = try Self.region(line, fields[1])
        let time = try ScanTime.parse(UnsafeBufferPointer(rebasing: line[fields[2]]), offset: fields[2].lowerBound)
        let code: DecodedCode
        switch codes.decode(UnsafeBufferPointer(rebasing: line[fields[3]])) {
        case .success(let decoded): code = decoded
        case .failure(let rejection):
            throw CodeRejection(rejection.reason, at: fields[3].lowerBound + rejection.offset, rejection.message)
        }
        var event: ScanBatch.Event
        switch code.key {
        case .item(let gtin, let serial):
            event = ScanBatch.Event(step: step, region: region, time: time, kind: .item, key: UInt64(gtin)!)
            event.serial = ArraySlice(serial.utf8)
        case .logisticUnit(let sscc):
            event = ScanBatch.Event(step: step, region: region, time: time, kind: .logisticUnit, key: UInt64(sscc)!)
        }
        var seen: Set<String> = []
        for field in fields.dropFirst(4) {
            try LineField.apply(line, field, to: &event, seen: &seen)
        }
        return .event(event, code)
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    static func step(_ line: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) throws(CodeRejection) -> ScanStep {
        let text = String(decoding: UnsafeBufferPointer(rebasing: line[field]), as: UTF8.self)
        guard let step = ScanStep(rawValue: text) else {
            throw CodeRejection(
                .badStep,
                at: field.lowerBound,
                "the step must be ship, receive, sell, activate, inspect or return"
            )
        }
        return step
    }

    static func region(_ line: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) throws(CodeRejection) -> UInt32 {
        guard field.count == 6 || field.count == 12 else {
            throw CodeRejection(.badRegion, at: field.lowerBound, "a region is a 6-digit GB/T 2260 code")
        }
        var value: UInt32 = 0
        for (position, index) in field.enumerated() {
            guard let digit = GS1Linter.digit(line[index]) else {
                throw CodeRejection(.badRegion, at: index, "a region is a 6-digit GB/T 2260 code")
            }
            if position < 6 {
                value = value * 10 + UInt32(digit)
            } else if digit != 0 {
                throw CodeRejection(.badRegion, at: index, "the 12-digit form ends in six zeros")
            }
        }
        guard RegionCodeShape.isValid(value) else {
            throw CodeRejection(.badRegion, at: field.lowerBound, "not a GB/T 2260 code shape")
        }
        return value
    }
}

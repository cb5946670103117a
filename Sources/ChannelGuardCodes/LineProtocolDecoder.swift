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
    ///
    /// Element-string codes are decoded straight from the line into the batch's columns: once the
    /// batch has grown to its working size, this allocates nothing per line. Digital Link and EPC
    /// URIs take the general decoder (their percent-encoded serials are rewritten on the way).
    public func decode(_ data: UnsafeBufferPointer<UInt8>, into batch: inout ScanBatch, firstRecord: Int32 = 0) {
        var record = firstRecord
        var start = 0
        var memo = DecodeMemo()
        while start < data.count {
            let end = ByteScan.firstIndex(of: UInt8(ascii: "\n"), in: data, from: start, to: data.count)
            if let rejection = decode(
                line: UnsafeBufferPointer(rebasing: data[start..<end]),
                into: &batch,
                record: record,
                memo: &memo
            ) {
                batch.reject(record: record, rejection)
            }
            record += 1
            start = end + 1
        }
    }

    /// Decodes one line (without its LF; a trailing CR is dropped here), with the code's elements.
    public func decodeLine(_ raw: UnsafeBufferPointer<UInt8>) -> Result<Line, CodeRejection> {
        var batch = ScanBatch()
        var memo = DecodeMemo()
        if let rejection = decode(line: raw, into: &batch, record: 0, memo: &memo) { return .failure(rejection) }
        guard batch.count == 1 else { return .success(.skipped) }
        let line = Self.withoutCR(raw)
        let codeField = withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: limits.maximumFields) {
            _ = split(line, into: $0)
            return $0[3]
        }
        guard case .success(let code) = codes.decode(UnsafeBufferPointer(rebasing: line[codeField])) else {
            preconditionFailure("a code accepted in a line is accepted by the code decoder")
        }
        return .success(.event(batch.event(at: 0), code))
    }

    /// The line without a trailing CR.
    static func withoutCR(_ raw: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let last = raw.last, last == UInt8(ascii: "\r") else { return raw }
        return UnsafeBufferPointer(rebasing: raw[0..<raw.count - 1])
    }

    /// Splits a line at spaces and tabs into `fields`; returns how many, or why there are too many.
    func split(
        _ line: UnsafeBufferPointer<UInt8>,
        into fields: UnsafeMutableBufferPointer<Range<Int>>
    ) -> Result<Int, CodeRejection> {
        var count = 0
        var index = 0
        while index < line.count {
            while index < line.count, Self.isBlank(line[index]) { index += 1 }
            guard index < line.count else { break }
            let start = index
            index = ByteScan.firstIndex(
                of: UInt8(ascii: " "),
                or: UInt8(ascii: "\t"),
                in: line,
                from: index,
                to: line.count
            )
            guard count < fields.count else {
                return .failure(CodeRejection(.tooManyFields, at: start, "lines have at most \(fields.count) fields"))
            }
            fields[count] = start..<index
            count += 1
        }
        return .success(count)
    }

    /// The optional fields of a line as they are read: the event's scalars, where party and device are.
    struct ScannedLine {
        var event: ScanBatch.Fields
        var party: Range<Int> = 0..<0
        var device: Range<Int> = 0..<0
    }

    /// Decodes one line into `batch`; returns why it was rejected, or `nil` when it was appended or
    /// is a comment or blank line.
    func decode(
        line raw: UnsafeBufferPointer<UInt8>,
        into batch: inout ScanBatch,
        record: Int32,
        memo: inout DecodeMemo
    ) -> CodeRejection? {
        let line = Self.withoutCR(raw)
        guard line.count <= limits.maximumLineBytes else {
            return CodeRejection(
                .lineTooLong,
                at: limits.maximumLineBytes,
                "lines are limited to \(limits.maximumLineBytes) bytes"
            )
        }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: limits.maximumFields) { fields in
            let count: Int
            switch split(line, into: fields) {
            case .success(let found): count = found
            case .failure(let rejection): return rejection
            }
            guard count > 0, line[fields[0].lowerBound] != UInt8(ascii: "#") else { return nil }
            guard count >= 4 else {
                let name = ["step", "region", "time", "code"][count]
                return CodeRejection(.missingField, at: line.count, "the \(name) field is missing")
            }
            do throws(CodeRejection) {
                try decodeFields(
                    line,
                    UnsafeBufferPointer(rebasing: fields[0..<count]),
                    into: &batch,
                    record: record,
                    memo: &memo
                )
                return nil
            } catch {
                return error
            }
        }
    }

    private func decodeFields(
        _ line: UnsafeBufferPointer<UInt8>,
        _ fields: UnsafeBufferPointer<Range<Int>>,
        into batch: inout ScanBatch,
        record: Int32,
        memo: inout DecodeMemo
    ) throws(CodeRejection) {
        let step = try Self.step(line, fields[0])
        let region = try Self.region(line, fields[1])
        let time = try ScanTime.parse(
            UnsafeBufferPointer(rebasing: line[fields[2]]),
            offset: fields[2].lowerBound,
            memo: &memo
        )
        let codeField = fields[3]
        let code = UnsafeBufferPointer(rebasing: line[codeField])
        func moved(_ rejection: CodeRejection) -> CodeRejection {
            CodeRejection(rejection.reason, at: codeField.lowerBound + rejection.offset, rejection.message)
        }
        func text(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: line[range]) }

        var scanned = ScannedLine(event: ScanBatch.Fields(step: step, region: region, time: time, kind: .item, key: 0))
        // An element string's serial is in the line; a URI's is percent-decoded into a string.
        var serialInLine = 0..<0
        var decodedSerial: String?
        if !DigitalLinkDecoder.recognises(code) && !EPCURIDecoder.recognises(code) {
            switch codes.elementStrings.decodeKey(code, memo: &memo) {
            case .success(let key):
                scanned.event.kind = key.kind
                scanned.event.key = key.key
                serialInLine =
                    (codeField.lowerBound + key.serial.lowerBound)..<(codeField.lowerBound + key.serial.upperBound)
            case .failure(let rejection): throw moved(rejection)
            }
        } else {
            switch codes.decode(code) {
            case .success(let decoded):
                switch decoded.key {
                case .item(let gtin, let serial):
                    scanned.event.key = UInt64(gtin)!
                    decodedSerial = serial
                case .logisticUnit(let sscc):
                    scanned.event.kind = .logisticUnit
                    scanned.event.key = UInt64(sscc)!
                }
            case .failure(let rejection): throw moved(rejection)
            }
        }
        var seen: UInt8 = 0
        for field in fields[4...] {
            try LineField.apply(line, field, to: &scanned, seen: &seen)
        }
        func append(serial: UnsafeBufferPointer<UInt8>) {
            batch.append(
                scanned.event,
                serial: serial,
                party: text(scanned.party),
                device: text(scanned.device),
                record: record
            )
        }
        if var decodedSerial {
            decodedSerial.withUTF8 { append(serial: $0) }
        } else {
            append(serial: text(serialInLine))
        }
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    static func step(_ line: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) throws(CodeRejection) -> ScanStep {
        guard let step = ScanStep(bytes: UnsafeBufferPointer(rebasing: line[field])) else {
            throw CodeRejection(
                .badStep,
                at: field.lowerBound,
                "the step must be ship, receive, sell, activate, inspect or return"
            )
        }
        return step
    }

    static func region(_ line: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) throws(CodeRejection) -> UInt32 {
        guard field.count == 6 || field.count == 12, let base = line.baseAddress else {
            throw CodeRejection(.badRegion, at: field.lowerBound, "a region is a 6-digit GB/T 2260 code")
        }
        // Six digits read without a branch each; the slow loop below runs only to name a problem.
        var value: UInt32 = 0
        var wrong = false
        for index in field.lowerBound..<field.lowerBound + 6 {
            let digit = base[index] &- UInt8(ascii: "0")
            wrong = wrong || digit > 9
            value = value &* 10 &+ UInt32(digit)
        }
        for index in field.lowerBound + 6..<field.upperBound { wrong = wrong || base[index] != UInt8(ascii: "0") }
        if wrong {
            for index in field {
                guard GS1Linter.digit(line[index]) != nil else {
                    throw CodeRejection(.badRegion, at: index, "a region is a 6-digit GB/T 2260 code")
                }
                if index - field.lowerBound >= 6, line[index] != UInt8(ascii: "0") {
                    throw CodeRejection(.badRegion, at: index, "the 12-digit form ends in six zeros")
                }
            }
        }
        guard RegionCodeShape.isValid(value) else {
            throw CodeRejection(.badRegion, at: field.lowerBound, "not a GB/T 2260 code shape")
        }
        return value
    }
}

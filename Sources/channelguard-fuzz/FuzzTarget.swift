import ChannelGuardCodes

/// The decoders under fuzzing. Each takes arbitrary bytes and must never crash, hang or grow
/// without bound; every outcome is a decoded value or a rejection with a reason.
enum FuzzTarget: String, CaseIterable {
    /// Any code form: element strings, Digital Link and EPC URIs.
    case code
    /// Line-protocol datagrams.
    case line
    /// Whole binary frames (mostly rejected at authentication: exercises the header checks).
    case frame
    /// Binary records behind a valid signature: the input is the payload of a signed frame.
    case records

    static let secret: [UInt8] = Array(0...15)
    static let codes = CodeDecoder()
    static let lines = LineProtocolDecoder()
    static let frames = BinaryFrameDecoder { $0 == 7 ? FuzzTarget.secret : nil }
    static let encoder = BinaryFrameEncoder(gatewayID: 7, secret: FuzzTarget.secret)

    func run(_ data: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .code:
            // An accepted code decodes the same from its own bracketed rendering (unless a value holds
            // '(', which bracketed syntax cannot always tell from the next AI).
            if case .success(let code) = Self.codes.decode(data),
                !code.elements.contains(where: { $0.value.contains("(") })
            {
                let bracketed = code.elements.map { "(\($0.ai))\($0.value)" }.joined()
                guard case .success(let again) = Self.codes.decode(bracketed), again.key == code.key else {
                    fatalError("accepted \(Array(data)) but not its bracketed form \(bracketed)")
                }
            }
        case .line:
            var batch = ScanBatch()
            Self.lines.decode(data, into: &batch)
            let lineCount = data.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } + 1
            precondition(batch.count + batch.rejections.count <= lineCount, "more outcomes than lines")
        case .frame:
            var batch = ScanBatch()
            _ = Self.frames.decode(data, into: &batch)
        case .records:
            guard let count = data.first else { return }
            let frame = Self.encoder.signedFrame(
                body: Array(data.dropFirst()),
                flags: [],
                recordCount: Int(count),
                sequence: 1
            )
            var batch = ScanBatch()
            guard case .success = frame.withUnsafeBufferPointer({ Self.frames.decode($0, into: &batch) }) else {
                fatalError("a correctly signed frame was rejected whole")
            }
            precondition(batch.count + batch.rejections.count >= Int(count), "a record went missing")
            // What was accepted re-encodes and decodes to the same events.
            if batch.count > 0, let again = try? Self.encoder.encode(batch, sequence: 2) {
                var second = ScanBatch()
                _ = again.withUnsafeBufferPointer { Self.frames.decode($0, into: &second) }
                precondition(second.count == batch.count && second.keys == batch.keys, "records do not round-trip")
            }
        }
    }
}

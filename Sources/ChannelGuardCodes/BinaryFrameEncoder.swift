/// Builds version-1 binary frames for one gateway: what a gateway (and `channelguard send`) sends.
public struct BinaryFrameEncoder: Sendable {
    public let gatewayID: UInt32
    private let key: FrameKey

    public init(gatewayID: UInt32, secret: [UInt8]) {
        self.gatewayID = gatewayID
        key = FrameKey(secret: secret)
    }

    /// Encodes the events `indices` of `batch` as one frame.
    public func encode(
        _ batch: ScanBatch,
        indices: Range<Int>? = nil,
        sequence: UInt64,
        compress: Bool = false
    ) throws(CompressionError) -> [UInt8] {
        let range = indices ?? 0..<batch.count
        var payload: [UInt8] = []
        payload.reserveCapacity(range.count * 48)
        for index in range { Self.appendRecord(batch, index, to: &payload) }
        return try frame(payload: payload, recordCount: range.count, sequence: sequence, compress: compress)
    }

    /// Wraps an already-encoded payload, compressing it when asked.
    public func frame(
        payload: [UInt8],
        recordCount: Int,
        sequence: UInt64,
        compress: Bool
    ) throws(CompressionError) -> [UInt8] {
        if compress {
            return signedFrame(
                body: try ZstdCodec.compress(payload),
                flags: .zstd,
                recordCount: recordCount,
                sequence: sequence
            )
        }
        return signedFrame(body: payload, flags: [], recordCount: recordCount, sequence: sequence)
    }

    /// Header, body as given, and the HMAC-SHA256 tag; the flags must describe the body.
    public func signedFrame(body: [UInt8], flags: BinaryFrame.Flags, recordCount: Int, sequence: UInt64) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(BinaryFrame.headerBytes + body.count + BinaryFrame.tagBytes)
        appendSignedFrame(body: body, flags: flags, recordCount: recordCount, sequence: sequence, to: &frame)
        return frame
    }

    /// ``signedFrame(body:flags:recordCount:sequence:)`` appended to `frame`, which may already hold
    /// other frames: a sender packing many datagrams into one buffer allocates nothing per frame.
    public func appendSignedFrame(
        body: [UInt8],
        flags: BinaryFrame.Flags,
        recordCount: Int,
        sequence: UInt64,
        to frame: inout [UInt8]
    ) {
        let start = frame.count
        frame.appendBigEndian(UInt32(BinaryFrame.headerBytes - 4 + body.count + BinaryFrame.tagBytes))
        frame.append(BinaryFrame.version)
        frame.append(flags.rawValue)
        frame.appendBigEndian(UInt16(recordCount))
        frame.appendBigEndian(gatewayID)
        frame.appendBigEndian(sequence)
        frame.appendBigEndian(UInt32(body.count))
        frame.append(contentsOf: body)
        let signed = frame.count
        frame.append(contentsOf: repeatElement(0, count: FrameKey.tagBytes))
        frame.withUnsafeMutableBytes { bytes in
            key.writeTag(
                of: UnsafeRawBufferPointer(rebasing: bytes[(start + 4)..<signed]),
                to: bytes.baseAddress!.advanced(by: signed).assumingMemoryBound(to: UInt8.self)
            )
        }
    }

    static func appendRecord(_ batch: ScanBatch, _ index: Int, to out: inout [UInt8]) {
        out.append(BinaryFrame.stepCode(batch.steps[index]))
        out.append(batch.kinds[index].rawValue)
        out.appendBigEndian(batch.regions[index])
        out.appendBigEndian(batch.times[index])
        out.appendBigEndian(batch.keys[index])
        let serial = batch.serials[index]
        out.append(UInt8(serial.end - serial.start))
        out.append(contentsOf: batch.text[Int(serial.start)..<Int(serial.end)])
        var present: UInt8 = 0
        if batch.prices[index] >= 0 { present |= BinaryFrame.Field.price }
        if batch.parties[index] != .empty { present |= BinaryFrame.Field.party }
        if batch.devices[index] != .empty { present |= BinaryFrame.Field.device }
        if batch.sequences[index] != 0 { present |= BinaryFrame.Field.sequence }
        if batch.latitudes[index] != .min { present |= BinaryFrame.Field.position }
        out.append(present)
        if present & BinaryFrame.Field.price != 0 { out.appendBigEndian(batch.prices[index]) }
        for (bit, range) in [
            (BinaryFrame.Field.party, batch.parties[index]), (BinaryFrame.Field.device, batch.devices[index]),
        ]
        where present & bit != 0 {
            out.append(UInt8(range.end - range.start))
            out.append(contentsOf: batch.text[Int(range.start)..<Int(range.end)])
        }
        if present & BinaryFrame.Field.sequence != 0 { out.appendBigEndian(batch.sequences[index]) }
        if present & BinaryFrame.Field.position != 0 {
            out.appendBigEndian(batch.latitudes[index])
            out.appendBigEndian(batch.longitudes[index])
        }
    }
}

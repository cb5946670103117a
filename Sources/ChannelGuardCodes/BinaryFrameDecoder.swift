/// Decodes version-1 binary frames into a ``ScanBatch``.
///
/// The frame is authenticated first: an unknown gateway, a bad tag, or a malformed header rejects
/// it whole, and nothing of it reaches the batch. Then each record is checked on its own: a bad
/// record is rejected with its reason and its offset in the (decompressed) payload, and the records
/// beside it go through. A record cut short ends the frame's records (`bad_record`).
public struct BinaryFrameDecoder: Sendable {
    /// The HMAC secret of a gateway id; `nil` for an unknown or disabled gateway.
    public typealias SecretLookup = @Sendable (UInt32) -> [UInt8]?
    /// The prepared HMAC key of a gateway id; `nil` for an unknown or disabled gateway.
    public typealias KeyLookup = @Sendable (UInt32) -> FrameKey?

    private let keys: KeyLookup

    /// A decoder that prepares the gateway's key for every frame (tools and tests).
    public init(secrets: @escaping SecretLookup) {
        keys = { secrets($0).map { FrameKey(secret: $0) } }
    }

    /// A decoder that looks up keys prepared beforehand (the daemon: once per reference-data change).
    public init(keys: @escaping KeyLookup) {
        self.keys = keys
    }

    /// Decodes one whole frame (length prefix included). Record numbers count from `firstRecord`.
    public func decode(
        _ frame: UnsafeBufferPointer<UInt8>,
        into batch: inout ScanBatch,
        firstRecord: Int32 = 0
    ) -> Result<BinaryFrame.Header, CodeRejection> {
        do throws(CodeRejection) {
            let (header, payloadRange) = try authenticate(frame)
            if header.flags & BinaryFrame.Flags.zstd.rawValue != 0 {
                let payload: [UInt8]
                do {
                    payload = try ZstdCodec.decompress(
                        Array(frame[payloadRange]),
                        maximumSize: BinaryFrame.maximumPayloadBytes
                    )
                } catch {
                    throw CodeRejection(
                        .badFrame,
                        at: payloadRange.lowerBound,
                        "the zstd payload does not decompress: \(error)"
                    )
                }
                payload.withUnsafeBufferPointer {
                    records($0, count: header.recordCount, into: &batch, firstRecord: firstRecord)
                }
            } else {
                records(
                    UnsafeBufferPointer(rebasing: frame[payloadRange]),
                    count: header.recordCount,
                    into: &batch,
                    firstRecord: firstRecord
                )
            }
            return .success(header)
        } catch {
            return .failure(error)
        }
    }

    /// Checks the header and the HMAC tag; returns the header and where the payload is.
    func authenticate(_ frame: UnsafeBufferPointer<UInt8>) throws(CodeRejection) -> (BinaryFrame.Header, Range<Int>) {
        let minimum = BinaryFrame.headerBytes + BinaryFrame.tagBytes
        guard frame.count >= minimum else {
            throw CodeRejection(.badFrame, at: 0, "a frame has at least \(minimum) bytes")
        }
        guard frame.count <= BinaryFrame.maximumFrameBytes else {
            throw CodeRejection(.badFrame, at: 0, "frames are limited to \(BinaryFrame.maximumFrameBytes) bytes")
        }
        guard Int(WireReader.uint32(frame, 0)) == frame.count - 4 else {
            throw CodeRejection(.badFrame, at: 0, "the length field does not match the frame")
        }
        guard frame[4] == BinaryFrame.version else {
            throw CodeRejection(.unsupportedVersion, at: 4, "frame version \(frame[4]); this server speaks version 1")
        }
        guard frame[5] & ~BinaryFrame.Flags.zstd.rawValue == 0 else {
            throw CodeRejection(.badFrame, at: 5, "unknown flags")
        }
        let recordCount = Int(WireReader.uint16(frame, 6))
        guard recordCount <= BinaryFrame.maximumRecords else {
            throw CodeRejection(.badFrame, at: 6, "at most \(BinaryFrame.maximumRecords) records a frame")
        }
        let gatewayID = WireReader.uint32(frame, 8)
        guard let key = keys(gatewayID) else {
            throw CodeRejection(.unknownGateway, at: 8, "gateway \(gatewayID) is not registered")
        }
        let payloadLength = Int(WireReader.uint32(frame, 20))
        let tagStart = BinaryFrame.headerBytes + payloadLength
        guard tagStart + BinaryFrame.tagBytes == frame.count else {
            throw CodeRejection(.badFrame, at: 20, "the payload length does not match the frame")
        }
        let authenticated = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(frame)[4..<tagStart])
        let tag = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(frame)[tagStart...])
        guard key.isValid(tag: tag, for: authenticated) else {
            throw CodeRejection(
                .badSignature,
                at: tagStart,
                "the HMAC-SHA256 tag does not match gateway \(gatewayID)'s secret"
            )
        }
        let header = BinaryFrame.Header(
            flags: frame[5],
            recordCount: recordCount,
            gatewayID: gatewayID,
            sequence: WireReader.uint64(frame, 12)
        )
        return (header, BinaryFrame.headerBytes..<tagStart)
    }

    private func records(
        _ payload: UnsafeBufferPointer<UInt8>,
        count: Int,
        into batch: inout ScanBatch,
        firstRecord: Int32
    ) {
        var cursor = RecordCursor(bytes: payload)
        for index in 0..<count {
            let record = firstRecord + Int32(index)
            guard let rejection = cursor.next(into: &batch, record: record) else { continue }
            batch.reject(record: record, rejection)
            if rejection.reason == .badRecord {  // the next record cannot be found
                for rest in (index + 1)..<max(index + 1, count) {
                    batch.reject(
                        record: firstRecord + Int32(rest),
                        CodeRejection(.badRecord, at: cursor.position, "after a malformed record")
                    )
                }
                return
            }
        }
        if cursor.position != payload.count {
            batch.reject(
                record: firstRecord + Int32(count),
                CodeRejection(
                    .badRecord,
                    at: cursor.position,
                    "\(payload.count - cursor.position) bytes after the last record"
                )
            )
        }
    }
}

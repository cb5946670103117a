import ChannelGuardCodes
import NIOCore

/// Splits a TCP byte stream into whole binary frames by their 4-byte length prefix, handing each
/// on as a slice of the receive buffer (no copy). A length no valid frame can have is rejected as
/// `bad_frame` before any of its bytes are buffered, so a hostile peer cannot make it hold more
/// than one maximum-size frame.
public struct BinaryFrameSplitter: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    /// Reads the next whole frame off the buffer; `nil` until it has all arrived.
    static func nextFrame(_ buffer: inout ByteBuffer) throws(CodeRejection) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let total = Int(length) + 4
        guard total >= BinaryFrame.headerBytes + BinaryFrame.tagBytes, total <= BinaryFrame.maximumFrameBytes else {
            throw CodeRejection(
                .badFrame,
                at: 0,
                "a frame length of \(total) bytes is outside \(BinaryFrame.headerBytes + BinaryFrame.tagBytes)–\(BinaryFrame.maximumFrameBytes)"
            )
        }
        return buffer.readSlice(length: total)
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 {
            throw CodeRejection(.badFrame, at: 0, "the connection ended inside a frame (\(buffer.readableBytes) bytes)")
        }
        return .needMoreData
    }
}

import ChannelGuardCodes
import NIOCore

/// A piece of a gateway's TCP stream: one whole binary frame, or whole protocol lines.
public enum IngestChunk: Sendable {
    case frame(ByteBuffer)
    case lines(ByteBuffer)
}

/// Splits a gateway's TCP stream. The first byte decides the protocol for the connection: a
/// binary frame's length starts with 0x00 (frames are at most 1 MiB), a protocol line never does.
/// Frames are cut by their length prefix (``BinaryFrameSplitter``); lines are handed on in runs
/// that end at the last complete line in the buffer.
public struct IngestStreamSplitter: ByteToMessageDecoder {
    public typealias InboundOut = IngestChunk

    enum Mode { case unknown, binary, lines }

    var mode = Mode.unknown
    let maximumLineBytes: Int

    public init(maximumLineBytes: Int = 1_024) {
        self.maximumLineBytes = maximumLineBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if mode == .unknown {
            guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMoreData }
            mode = first == 0 ? .binary : .lines
        }
        switch mode {
        case .binary:
            guard let frame = try BinaryFrameSplitter.nextFrame(&buffer) else { return .needMoreData }
            context.fireChannelRead(wrapInboundOut(.frame(frame)))
            return .continue
        case .lines, .unknown:
            let readable = buffer.readableBytesView
            guard let lastNewline = readable.lastIndex(of: UInt8(ascii: "\n")) else {
                // A line longer than any allowed: hand it on so the decoder rejects it by name,
                // and keep reading after it.
                if buffer.readableBytes > maximumLineBytes + 2 {
                    let slice = buffer.readSlice(length: buffer.readableBytes)!
                    context.fireChannelRead(wrapInboundOut(.lines(slice)))
                    return .continue
                }
                return .needMoreData
            }
            let length = lastNewline - readable.startIndex + 1
            context.fireChannelRead(wrapInboundOut(.lines(buffer.readSlice(length: length)!)))
            return .continue
        }
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if mode == .lines, buffer.readableBytes > 0 {
            // The last line without its line end still counts.
            context.fireChannelRead(wrapInboundOut(.lines(buffer.readSlice(length: buffer.readableBytes)!)))
        } else if buffer.readableBytes > 0 {
            throw CodeRejection(.badFrame, at: 0, "the connection ended inside a frame (\(buffer.readableBytes) bytes)")
        }
        return .needMoreData
    }
}

import ChannelGuardCodes
import ChannelGuardIngest
import NIOCore
import NIOEmbedded
import Testing

@Suite struct BinaryFrameSplitterTests {
    let secret: [UInt8] = Array(0...15)

    func frames(count: Int) throws -> [[UInt8]] {
        var random = SystemRandomNumberGenerator()
        return try (0..<count).map { index in
            try BinaryFrameEncoder(gatewayID: 7, secret: secret)
                .encode(BinaryFrameTests.randomBatch(count: index * 3, using: &random), sequence: UInt64(index))
        }
    }

    @Test func aStreamCutAnywhereGivesBackWholeFrames() throws {
        let sent = try frames(count: 20)
        let stream = sent.flatMap { $0 }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(BinaryFrameSplitter()))
        var offset = 0
        var chunk = 1
        while offset < stream.count {  // pieces of 1, 2, 3 … 97 bytes, then again
            let end = min(stream.count, offset + chunk)
            try channel.writeInbound(ByteBuffer(bytes: stream[offset..<end]))
            offset = end
            chunk = chunk % 97 + 1
        }
        var received: [[UInt8]] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) {
            received.append(Array(frame.readableBytesView))
        }
        #expect(received == sent)
        let decoder = BinaryFrameDecoder { [secret] _ in secret }
        for frame in received {
            var batch = ScanBatch()
            #expect((try? frame.withUnsafeBufferPointer { decoder.decode($0, into: &batch) }.get()) != nil)
        }
        #expect(try channel.finish().isClean)
    }

    @Test func impossibleLengthsAreRejectedAtOnce() throws {
        for length in [UInt32(0), 10, UInt32(BinaryFrame.maximumFrameBytes), UInt32.max] {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(BinaryFrameSplitter()))
            var buffer = ByteBuffer()
            buffer.writeInteger(length)
            let error = #expect(throws: CodeRejection.self) { try channel.writeInbound(buffer) }
            #expect(error?.reason == .badFrame)
            _ = try? channel.finish()
        }
    }

    @Test func aConnectionEndingInsideAFrameIsNamed() throws {
        let frame = try frames(count: 2)[1]
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(BinaryFrameSplitter()))
        try channel.writeInbound(ByteBuffer(bytes: frame.dropLast(5)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        let error = #expect(throws: CodeRejection.self) { _ = try channel.finish() }
        #expect(error?.reason == .badFrame)
    }
}

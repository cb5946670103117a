import ChannelGuardCodes
import Testing

@Suite struct ZstdCodecTests {
    @Test func roundTripsAndCompresses() throws {
        let line = Array("sell,440305,2026-11-23T12:00:00Z,(01)06901234567892(21)K0000000001\n".utf8)
        let input = Array((0..<2_000).map { _ in line }.joined())
        let compressed = try ZstdCodec.compress(input)
        #expect(compressed.count * 20 < input.count)
        #expect(try ZstdCodec.decompress(compressed) == input)
        #expect(try ZstdCodec.decompress(ZstdCodec.compress([])) == [])
    }

    @Test func damagedOrOversizedFramesAreRefused() throws {
        let compressed = try ZstdCodec.compress(Array(repeating: 7, count: 10_000))
        #expect(throws: CompressionError.self) { try ZstdCodec.decompress(Array(compressed.dropLast(3))) }
        #expect(throws: CompressionError.self) { try ZstdCodec.decompress([0x01, 0x02, 0x03, 0x04, 0x05]) }
        let error = #expect(throws: CompressionError.self) { try ZstdCodec.decompress(compressed, maximumSize: 1_000) }
        #expect(error?.message.contains("limit") == true)
    }
}

import ChannelGuardCodes
import ChannelGuardIndex
import Foundation
import Testing

/// The pieces of a checkpoint, without I/O: a shard copied while the original changes, and scan
/// state carried from a stale index into one rebuilt from the tables.
@Suite struct IndexCheckpointTests {
    static let gtin: UInt64 = 6_901_234_567_892
    static func key(_ serial: String) throws -> IndexKey { try IndexKey(gtin: gtin, serial: Array(serial.utf8)) }
    static func owner(_ distributor: Int64) throws -> SerialBinding {
        try SerialBinding(distributor: distributor, shipment: 1, boundAt: 1_780_000_000_000)
    }

    @Test func aCopiedShardKeepsWhatItHeldWhileTheOriginalChanges() throws {
        let index = try SerialIndex(shardCount: 2)
        let keys = try (0..<500).map { try Self.key("C\($0)") }
        for key in keys { try index.bind(key, to: try Self.owner(7)) }
        try index.record(keys[0], step: .sell, region: 440305, time: 1_790_000_000_000)
        let copies = try (0..<2).map { try index.copyShard($0) }
        // The original moves on: more keys, another sale, a key gone.
        for key in try (0..<50).map({ try Self.key("D\($0)") }) { try index.bind(key, to: try Self.owner(8)) }
        try index.record(keys[1], step: .sell, region: 440305, time: 1_790_000_000_000)
        index.unbind(keys[2])
        let copy = try SerialIndex(copies: copies)
        #expect(copy.count == 500)
        #expect(copy.lookup(keys[0])?.binding.flags.contains(.sold) == true)
        #expect(copy.lookup(keys[1])?.binding.flags.contains(.sold) == false)
        #expect(copy.lookup(keys[2]) != nil)
        #expect(copy.lookup(try Self.key("D0")) == nil)
        // It writes and loads as a snapshot of its own.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID()).snapshot").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Paced in chunks far smaller than the file (as checkpoints write it): the same file.
        try IndexSnapshot.write(
            copy,
            to: path,
            watermark: 1,
            createdAt: 0,
            logPositions: [11, 12],
            pacing: IndexSnapshot.Pacing(chunkBytes: 4096, pauseMicroseconds: 0)
        )
        let (loaded, header) = try IndexSnapshot.load(from: path)
        #expect(header.logPositions == [11, 12])
        #expect(loaded.lookup(keys) == copy.lookup(keys))
    }

    @Test func scanStateCarriesIntoARebuiltIndex() throws {
        let older = try SerialIndex(shardCount: 2)
        let sold = try Self.key("SOLD")
        let moved = try Self.key("MOVED")
        let gone = try Self.key("GONE")
        let shipped = try Self.key("SHIPPED")
        let ranged = try Self.key("RUN1-7")
        for key in [sold, moved, gone] { try older.bind(key, to: try Self.owner(7)) }
        try older.bindRange(gtin: Self.gtin, prefix: Array("RUN1".utf8), to: try Self.owner(7))
        try older.bind(
            shipped,
            to: try SerialBinding(distributor: 9, shipment: SerialBinding.scanShipment, boundAt: 1_780_000_000_000)
        )
        for key in [sold, moved, gone, ranged] {
            try older.record(key, step: .sell, region: 440305, time: 1_790_000_000_000)
        }
        // The tables now: MOVED belongs to distributor 8, GONE is unbound, the run is still bound.
        let rebuilt = try SerialIndex(shardCount: 2)
        try rebuilt.bind(sold, to: try Self.owner(7))
        try rebuilt.bind(moved, to: try Self.owner(8))
        try rebuilt.bindRange(gtin: Self.gtin, prefix: Array("RUN1".utf8), to: try Self.owner(7))
        let carried = try rebuilt.carryScanState(from: older)
        #expect(carried == 4)
        #expect(rebuilt.lookup(sold)?.binding.flags.contains(.sold) == true)
        let movedNow = try #require(rebuilt.lookup(moved)?.binding)
        #expect(movedNow.distributor == 8 && movedNow.flags.contains(.sold) && movedNow.lastRegion == 440305)
        #expect(rebuilt.lookup(gone) == nil)
        #expect(rebuilt.lookup(shipped)?.binding.distributor == 9)
        let run = try #require(rebuilt.lookup(ranged))
        #expect(run.source == .serial && run.binding.flags.isSuperset(of: [.sold, .fromRange]))
    }
}

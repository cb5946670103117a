import ChannelGuardCommerce
import Foundation
import Testing

@testable import ChannelGuardIndex

/// Snapshots load back into the same index, and every kind of damage is refused with its own code.
@Suite struct IndexSnapshotTests {
    /// An index with serials, ranges, cartons and recorded scan state, over several shards.
    static func sampleIndex(shards: Int, seed: UInt64) throws -> (SerialIndex, [IndexKey]) {
        var random = SplitMix64(seed: seed)
        let index = try SerialIndex(shardCount: shards)
        var keys: [IndexKey] = []
        for _ in 0..<3_000 {
            let key = try IndexKey(
                gtin: SerialIndexModelTests.gtins.randomElement(using: &random)!,
                serial: SerialIndexModelTests.serial(&random)
            )
            try index.bind(key, to: SerialIndexModelTests.binding(&random))
            keys.append(key)
        }
        for key in keys.prefix(200) { index.unbind(key) }
        for key in keys.dropFirst(200).prefix(100) {
            try index.record(key, step: .sell, region: 440_305, time: 1_780_000_000_000)
        }
        try index.bindRange(
            gtin: SerialIndexModelTests.gtins[0],
            prefix: Array("SN0".utf8),
            to: SerialIndexModelTests.binding(&random)
        )
        try index.bindCarton(
            sscc: SerialIndexModelTests.ssccs[0],
            contents: Array(keys.suffix(5)),
            to: SerialIndexModelTests.binding(&random)
        )
        keys.append(try IndexKey(sscc: SerialIndexModelTests.ssccs[0]))
        keys.append(try IndexKey(gtin: SerialIndexModelTests.gtins[0], serial: Array("SN0ZZZ".utf8)))
        return (index, keys)
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(
            "channelguard-\(name)-\(UUID().uuidString).snapshot"
        ).path
    }

    @Test(arguments: [1, 3])
    func roundTripKeepsEverything(shards: Int) throws {
        let (index, keys) = try Self.sampleIndex(shards: shards, seed: UInt64(shards))
        let path = Self.temporaryPath("roundtrip")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Both halves of the identity, so that a swapped or lost half shows.
        let database: UInt128 = 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210
        let written = try IndexSnapshot.write(
            index,
            to: path,
            watermark: 42,
            createdAt: 1_780_000_000_000,
            database: database,
            logPositions: (0..<shards).map { UInt64(1_000 + $0) }
        )
        #expect(written == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
        let (loaded, header) = try IndexSnapshot.load(from: path)
        #expect(
            header
                == IndexSnapshot.Header(
                    shardCount: shards,
                    watermark: 42,
                    createdAt: 1_780_000_000_000,
                    keyCount: index.count,
                    database: database,
                    logPositions: (0..<shards).map { UInt64(1_000 + $0) }
                )
        )
        #expect(loaded.count == index.count)
        #expect(loaded.bytesUsed == index.bytesUsed)
        #expect(loaded.lookup(keys) == index.lookup(keys))
        #expect(
            try loaded.contents(sscc: SerialIndexModelTests.ssccs[0])
                == index.contents(sscc: SerialIndexModelTests.ssccs[0])
        )
        // The loaded index keeps working, free lists included: the same changes give the same answers.
        var random = SplitMix64(seed: 7)
        for key in keys.shuffled(using: &random).prefix(500) {
            let binding = SerialIndexModelTests.binding(&random)
            if Bool.random(using: &random) {
                #expect(try loaded.bind(key, to: binding) == index.bind(key, to: binding))
            } else {
                #expect(loaded.unbind(key) == index.unbind(key))
            }
        }
        #expect(loaded.lookup(keys) == index.lookup(keys))
        #expect(loaded.bytesUsed == index.bytesUsed)
    }

    /// Writes a snapshot, damages a copy with `damage`, and returns the error loading it gives.
    func loadDamaged(_ damage: (inout [UInt8]) -> Void) throws -> IndexError? {
        let (index, _) = try Self.sampleIndex(shards: 2, seed: 9)
        let path = Self.temporaryPath("damaged")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try IndexSnapshot.write(index, to: path, watermark: 5, createdAt: 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        damage(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try IndexSnapshot.load(from: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyFlippedRegionIsCaught() throws {
        let size = try {
            let (index, _) = try Self.sampleIndex(shards: 2, seed: 9)
            let path = Self.temporaryPath("size")
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try IndexSnapshot.write(index, to: path, watermark: 5, createdAt: 0)
        }()
        // Header fields, the first shard's header and tree block, deep in the arenas, the trailer.
        let positions = [0, 9, 13, 30, 45, 64, 70, 100, 300, size / 3, size / 2, size - 30, size - 20, size - 3]
        for position in positions {
            let error = try loadDamaged { $0[position] ^= 0x5A }
            #expect(error != nil, "a flip at \(position) of \(size) was not caught")
            if let error {
                let expected: Set<IndexError.Code> = [
                    .snapshotNotASnapshot, .snapshotVersion, .snapshotStructure, .snapshotTruncated, .snapshotChecksum,
                ]
                #expect(expected.contains(error.code), "\(position): \(error)")
            }
        }
        #expect(try loadDamaged { $0[0] ^= 1 }?.code == .snapshotNotASnapshot)
        // Format 3 → 7 (3 → 2 is a format this build still reads: the walk above catches that flip).
        #expect(try loadDamaged { $0[8] ^= 4 }?.code == .snapshotVersion)
        #expect(try loadDamaged { $0[12] ^= 1 }?.code == .snapshotVersion)
        #expect(try loadDamaged { $0[size / 2] ^= 1 }?.code == .snapshotChecksum)
        #expect(try loadDamaged { $0[size - 10] ^= 1 }?.code == .snapshotTruncated)
    }

    /// A file made to pass its checksum, with random bytes changed inside the trees: the load either
    /// refuses it as a bad structure or gives an index on which every lookup, batch lookup and scan
    /// runs (answers may be wrong; nothing reads outside the arenas).
    @Test(arguments: [11, 12, 13, 14])
    func hostileFilesNeverCrash(seed: UInt64) throws {
        let (index, keys) = try Self.sampleIndex(shards: 1, seed: seed)
        let path = Self.temporaryPath("hostile")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let size = try IndexSnapshot.write(index, to: path, watermark: 5, createdAt: 0)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let treeStart = IndexSnapshot.headerSize + IndexSnapshot.shardHeaderSize(format: IndexSnapshot.formatVersion)
        var random = SplitMix64(seed: seed)
        var refused = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bytes[Int.random(in: treeStart..<(size - IndexSnapshot.trailerSize), using: &random)] = UInt8.random(
                    in: 0...255,
                    using: &random
                )
            }
            try Data(IndexSnapshot.resealed(bytes)).write(to: URL(fileURLWithPath: path))
            do {
                let (loaded, _) = try IndexSnapshot.load(from: path)
                _ = loaded.lookup(keys)
                for key in keys.prefix(300) { _ = loaded.lookup(key) }
                for gtin in SerialIndexModelTests.gtins { try loaded.forEachBinding(gtin: gtin) { _, _ in true } }
            } catch let error as IndexError {
                #expect(error.code == .snapshotStructure, "\(error)")
                refused += 1
            }
        }
        // Most changes land in nodes and leaf headers and are refused; some only change values.
        #expect(refused > 0)
    }

    @Test func truncatedAndExtendedFilesAreRefused() throws {
        #expect(try loadDamaged { $0 = [] }?.code == .snapshotNotASnapshot)
        #expect(try loadDamaged { $0.removeLast($0.count - 10) }?.code == .snapshotNotASnapshot)
        for keep in [64, 100, 5_000] {
            #expect(try loadDamaged { $0.removeLast($0.count - keep) }?.code == .snapshotTruncated, "kept \(keep)")
        }
        #expect(try loadDamaged { $0.removeLast(1) }?.code == .snapshotTruncated)
        #expect(try loadDamaged { $0.append(0) }?.code == .snapshotTruncated)
    }

    /// Counts and sizes no index could have are refused before they are used (a fuzzed file with
    /// a key count above `Int.max` once trapped the conversion).
    @Test func impossibleCountsAreRefused() throws {
        for offset in [40, 64, 72, 80, 96, 112] {
            let error = try loadDamaged { bytes in
                for index in offset..<(offset + 8) { bytes[index] = 0xFF }
            }
            #expect(error?.code == .snapshotStructure, "offset \(offset): \(String(describing: error))")
        }
    }

    @Test func aMissingFileIsAnIOError() {
        #expect(throws: IndexError.self) { try IndexSnapshot.load(from: "/nonexistent/channelguard.snapshot") }
        #expect((try? IndexSnapshot.header(at: "/nonexistent/x")) == nil)
    }

    /// Writing replaces the file only at the rename: a failed write leaves the old snapshot intact
    /// and no temporary file behind.
    @Test func writesAreAtomic() throws {
        let (index, _) = try Self.sampleIndex(shards: 1, seed: 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cg-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("index.snapshot").path
        try IndexSnapshot.write(index, to: path, watermark: 1, createdAt: 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // A directory where the temporary file would go makes the write fail before the rename.
        let blocker = path + ".tmp-\(getpid())"
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        #expect(throws: IndexError.self) { try IndexSnapshot.write(index, to: path, watermark: 2, createdAt: 0) }
        try FileManager.default.removeItem(atPath: blocker)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["index.snapshot"])
    }
}

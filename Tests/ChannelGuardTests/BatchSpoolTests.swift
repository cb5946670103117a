import ChannelGuardIngest
import ChannelGuardTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The spool on its own: records come back in order, a torn tail (a crash while appending) ends it
/// without harm, and damaged record bodies are refused, never read out of bounds.
@Suite struct BatchSpoolTests {
    static let batch = StoredBatch(
        shard: 1,
        eventCount: 3,
        firstScan: 1_795_435_200_000,
        lastScan: 1_795_435_200_500,
        rawBytes: 300,
        payload: Array(0..<40),
        offsets: [5, 17, 6, 3],
        rollup: Array(repeating: 9, count: 34),
        alerts: [["out_of_territory", "high", nil, "sell"], ["duplicate", "critical", "1795435200000", nil]]
    )

    func path(_ name: String) -> String {
        let directory = TestCluster.root.path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(name)-\(getpid()).spool"
        unlink(path)
        return path
    }

    @Test func recordsComeBackInOrderAndAnEmptiedSpoolIsTruncated() throws {
        let path = path("order")
        defer { unlink(path) }
        let spool = try BatchSpool(path: path)
        var second = Self.batch
        second.eventCount = 4
        try spool.append(Self.batch.encoded)
        try spool.append(second.encoded)
        // A second reader (the next start) sees both, in order.
        let reopened = try BatchSpool(path: path)
        let first = try #require(reopened.next())
        #expect(StoredBatch(decoding: first.body) == Self.batch)
        reopened.committed(through: first.end)
        let next = try #require(reopened.next())
        #expect(StoredBatch(decoding: next.body) == second)
        reopened.committed(through: next.end)
        #expect(reopened.isEmpty && reopened.writeOffset == 0)
        #expect(try BatchSpool(path: path).next() == nil)
    }

    @Test func aTornTailEndsTheSpool() throws {
        let path = path("torn")
        defer { unlink(path) }
        let spool = try BatchSpool(path: path)
        try spool.append(Self.batch.encoded)
        try spool.append(Self.batch.encoded)
        // Cut the file inside the second record, as a crash while appending would.
        truncate(path, off_t(spool.writeOffset - 10))
        let reopened = try BatchSpool(path: path)
        let first = try #require(reopened.next())
        #expect(StoredBatch(decoding: first.body) == Self.batch)
        reopened.committed(through: first.end)
        #expect(reopened.next() == nil)
        #expect(reopened.isEmpty)
    }

    @Test func damagedRecordBodiesAreRefused() {
        let body = Self.batch.encoded
        for cut in stride(from: 0, to: body.count, by: 7) {
            #expect(StoredBatch(decoding: Array(body[..<cut])) == nil)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var damaged = body
            damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            _ = StoredBatch(decoding: damaged)  // decoded or refused; never a crash
        }
    }
}

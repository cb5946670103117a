import ChannelGuardCodes
import Testing

/// The batch's shared column storage behaves like a value: copies are independent, columns taken
/// before a change keep what they saw, and growth keeps every event and byte.
@Suite struct ScanBatchTests {
    func event(_ index: Int) -> ScanBatch.Event {
        var event = ScanBatch.Event(step: .sell, region: 440_305, time: Int64(index), kind: .item, key: UInt64(index))
        event.serial = ArraySlice("S\(index)".utf8)
        if index % 3 == 0 { event.party = ArraySlice("ST-\(index)".utf8) }
        if index % 5 == 0 { event.device = ArraySlice("POS-\(index)".utf8) }
        event.price = Int64(index) * 100
        return event
    }

    @Test func growthKeepsEveryEventAndByte() {
        var batch = ScanBatch()
        for index in 0..<5_000 { batch.append(event(index), record: Int32(index)) }
        #expect(batch.count == 5_000)
        #expect(batch.times.map { Int($0) } == Array(0..<5_000))
        #expect(batch.records.map { Int($0) } == Array(0..<5_000))
        #expect(batch.serials.map(batch.string) == (0..<5_000).map { "S\($0)" })
        #expect(batch.parties.map(batch.string) == (0..<5_000).map { $0 % 3 == 0 ? "ST-\($0)" : "" })
        #expect(batch.devices.map(batch.string) == (0..<5_000).map { $0 % 5 == 0 ? "POS-\($0)" : "" })
        let again = batch.event(at: 4_990)
        #expect(again.key == 4_990 && again.party.isEmpty && Array(again.device) == Array("POS-4990".utf8))
    }

    @Test func copiesAreIndependent() {
        var original = ScanBatch()
        for index in 0..<10 { original.append(event(index), record: Int32(index)) }
        var copy = original
        let keysBefore = original.keys
        copy.append(event(99), record: 99)
        #expect(original.count == 10 && copy.count == 11)
        #expect(original.keys == Array(0..<10).map(UInt64.init))
        copy.removeAll()
        #expect(copy.count == 0 && copy.text.isEmpty && original.count == 10)
        original.removeAll()
        #expect(original.count == 0)
        // A column read before the changes still shows what it saw.
        #expect(keysBefore == Array(0..<10).map(UInt64.init))
    }

    @Test func reservedCapacityHoldsWhatWasAsked() {
        var batch = ScanBatch()
        batch.reserveCapacity(events: 1_000, textBytes: 10_000)
        for index in 0..<1_000 { batch.append(event(index), record: Int32(index)) }
        #expect(batch.count == 1_000)
        batch.removeAll()
        batch.append(event(7), record: 0)
        #expect(batch.count == 1 && batch.string(batch.serials[0]) == "S7")
        let sum = batch.keys.withUnsafeBufferPointer { $0.reduce(0, +) }
        #expect(sum == 7)
    }
}

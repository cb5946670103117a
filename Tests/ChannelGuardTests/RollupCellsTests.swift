import ChannelGuardCodes
import ChannelGuardCommerce
import Testing

@testable import ChannelGuardIngest

/// The rollup cell table against a `Dictionary` doing the same adds.
@Suite struct RollupCellsTests {
    static func randomKey(_ generator: inout some RandomNumberGenerator, spread: Int) -> RollupKey {
        RollupKey(
            hour: 1_795_435_200 + 3600 * Int64.random(in: 0..<3, using: &generator),
            distributor: Int64.random(in: 1...Int64(spread), using: &generator),
            city: [110100, 440300, 310100, 330100][Int.random(in: 0..<4, using: &generator)],
            gtin: 6_901_234_567_000 + UInt64.random(in: 0..<UInt64(spread), using: &generator),
            step: ScanStep.allCases.randomElement(using: &generator)!,
            inTerritory: Bool.random(using: &generator)
        )
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func addsCountAndIterateLikeADictionary(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var cells = RollupCells()
        var model: [RollupKey: Int64] = [:]
        // Few distinct keys at first (many repeats), then many (the table grows several times).
        for round in 0..<20_000 {
            let key = Self.randomKey(&generator, spread: round < 5_000 ? 20 : 5_000)
            let amount = Int64.random(in: 1...4, using: &generator)
            cells.add(key, amount)
            model[key, default: 0] += amount
        }
        #expect(cells.count == model.count && !cells.isEmpty)
        #expect(cells.dictionary == model)
        var seen = 0
        for (key, scans) in cells {
            #expect(model[key] == scans)
            seen += 1
        }
        #expect(seen == model.count)
        for (key, scans) in model.prefix(500) { #expect(cells[key] == scans) }
        let absent = RollupKey(hour: 0, distributor: -1, city: 1, gtin: 1, step: .sell, inTerritory: true)
        #expect(cells[absent] == 0)
    }

    /// Adding keys in prefetched groups counts exactly what adding them one at a time counts: runs
    /// shorter and longer than a group, repeats inside a group, and growth in the middle of a run.
    @Test(arguments: [11, 12, 13])
    func groupedAddsCountLikeSingleAdds(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var grouped = RollupCells()
        var single = RollupCells()
        var model: [RollupKey: Int64] = [:]
        for run in 0..<400 {
            let length = [0, 1, RollupCells.prefetchGroup - 1, RollupCells.prefetchGroup, 37, 512][run % 6]
            let keys = (0..<length).map { _ in Self.randomKey(&generator, spread: run < 100 ? 8 : 3_000) }
            keys.withUnsafeBufferPointer { grouped.addOne(each: $0) }
            for key in keys {
                single.add(key, 1)
                model[key, default: 0] += 1
            }
        }
        #expect(grouped.count == model.count && model.count > 10_000)
        #expect(grouped.dictionary == model)
        #expect(grouped.dictionary == single.dictionary)
    }

    /// A fold's merge of stored deltas, many times a decode chunk long with cells repeating across
    /// deltas, counts what a dictionary counts; a delta with a bad cell anywhere adds nothing.
    @Test func mergedDeltasCountLikeADictionaryAndABadDeltaAddsNothing() {
        var generator = SplitMix64(seed: 21)
        var merged = RollupCells()
        var model: [RollupKey: Int64] = [:]
        for delta in 0..<12 {
            var cells: [RollupKey: Int64] = [:]
            for _ in 0..<(delta == 0 ? 1 : 900) {
                cells[Self.randomKey(&generator, spread: 60), default: 0] += Int64.random(in: 1...5, using: &generator)
            }
            #expect(RollupDeltas.merge(RollupDeltas.encode(RollupCells(cells)), into: &merged))
            model.merge(cells, uniquingKeysWith: +)
        }
        #expect(merged.dictionary == model && model.count > 2_000)
        var bad = RollupDeltas.encode(RollupCells(model))
        bad[(model.count - 1) * RollupDeltas.cellBytes + 28] = 0xEE
        #expect(!RollupDeltas.merge(bad, into: &merged))
        #expect(merged.dictionary == model)
    }

    /// Grouped adds with amounts, against single adds.
    @Test func groupedAddsWithAmounts() {
        var generator = SplitMix64(seed: 22)
        let keys = (0..<5_000).map { _ in Self.randomKey(&generator, spread: 400) }
        let amounts = keys.map { _ in Int64.random(in: 1...1_000, using: &generator) }
        var grouped = RollupCells()
        var single = RollupCells()
        keys.withUnsafeBufferPointer { keys in amounts.withUnsafeBufferPointer { grouped.add(keys, amounts: $0) } }
        for (key, amount) in zip(keys, amounts) { single.add(key, amount) }
        #expect(grouped.dictionary == single.dictionary && grouped.count > 1_000)
    }

    @Test func anEmptyTableAndOneBuiltFromADictionary() {
        let empty = RollupCells(minimumCapacity: 1_000)
        #expect(empty.isEmpty && empty.count == 0 && Array(empty).isEmpty)
        var generator = SplitMix64(seed: 9)
        let model = Dictionary(
            (0..<300).map { _ in (Self.randomKey(&generator, spread: 1_000), Int64.random(in: 1...9, using: &generator))
            },
            uniquingKeysWith: +
        )
        #expect(RollupCells(model).dictionary == model)
    }
}

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

import ChannelGuardCommerce
import ChannelGuardTerritory
import Testing

@testable import ChannelGuardDetection

/// The flat grant table against the grants it was built from, asked the same questions.
@Suite struct GrantTableTests {
    static let codes: [UInt32] = [
        110000, 110100, 110101, 110105, 440000, 440300, 440305, 440106, 310000, 310115, 510104,
    ]

    /// What `isInside` answered before the table: a walk of the distributor's own grants.
    static func reference(
        _ grants: [Int64: [ReferenceData.Grant]],
        _ region: RegionCode,
        _ distributor: Int64,
        _ time: Int64
    )
        -> Bool
    {
        (grants[distributor] ?? []).contains { grant in
            time >= grant.from && (grant.to.map { time < $0 } ?? true) && grant.region.contains(region)
        }
    }

    @Test(arguments: [1, 2, 3])
    func answersAsTheGrantsDo(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var grants: [Int64: [ReferenceData.Grant]] = [:]
        // Ids 0 and negative too: the table's empty slots must not swallow them.
        let distributors: [Int64] = [0, -3] + (1...400).map { Int64($0) * 7_919 }
        for distributor in distributors where Int.random(in: 0..<10, using: &generator) > 0 {
            grants[distributor] = try (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                let from = Bool.random(using: &generator) ? Int64.min : Int64.random(in: 0..<1_000, using: &generator)
                let to: Int64? = Bool.random(using: &generator) ? nil : from.addingReportingOverflow(500).partialValue
                return ReferenceData.Grant(
                    region: try #require(RegionCode(value: Self.codes.randomElement(using: &generator)!)),
                    from: from,
                    to: to
                )
            }
        }
        let table = GrantTable(grants)
        var inside = 0
        for _ in 0..<20_000 {
            let distributor =
                distributors.randomElement(using: &generator)!
                + (Int.random(in: 0..<20, using: &generator) == 0 ? 1 : 0)
            let region = try #require(RegionCode(value: Self.codes.randomElement(using: &generator)!))
            let time = Int64.random(in: -10..<1_600, using: &generator)
            let expected = Self.reference(grants, region, distributor, time)
            #expect(table.isInside(region, distributor: distributor, at: time) == expected)
            if expected { inside += 1 }
        }
        // Both answers occur often enough for the comparison to mean something.
        #expect(inside > 2_000 && inside < 18_000)
    }

    @Test func anEmptyTableHoldsNoOne() throws {
        let table = GrantTable([:])
        let region = try #require(RegionCode(value: 440305))
        #expect(!table.isInside(region, distributor: 1, at: 0))
        #expect(!table.isInside(region, distributor: 0, at: 0))
    }
}

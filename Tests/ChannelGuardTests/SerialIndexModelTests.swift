import ChannelGuardCodes
import ChannelGuardCommerce
import Testing

@testable import ChannelGuardIndex

/// The index against a plain model (a `Dictionary` of serials, one of ranges, one of carton
/// contents) over long random sequences of binds, rebinds, unbinds, ranges and cartons: every
/// lookup, batch lookup, count and ordered scan must agree.
@Suite struct SerialIndexModelTests {
    /// A few GTINs with valid check digits, some sharing all but their last bytes.
    static let gtins: [UInt64] = [6_901_234_567_892, 6_901_234_567_809, 9_501_101_020_917, 4_006_381_333_931]
    static let ssccs: [UInt64] = [106_141_411_234_567_897, 106_141_411_234_567_880, 376_104_250_021_234_569]

    struct Model {
        var serials: [IndexKey: SerialBinding] = [:]
        var ranges: [IndexKey: SerialBinding] = [:]
        var cartons: [IndexKey: [IndexKey]] = [:]

        func lookup(_ key: IndexKey) -> SerialIndex.Match? {
            if let binding = serials[key] {
                return SerialIndex.Match(binding: binding, source: key.isLogisticUnit ? .carton : .serial)
            }
            guard key.isItem else { return nil }
            let serial = key.serial
            for length in stride(from: serial.count, through: 1, by: -1) {
                let range = try! IndexKey.range(gtin: key.number, prefix: serial.prefix(length))
                if let binding = ranges[range] { return SerialIndex.Match(binding: binding, source: .range) }
            }
            return nil
        }
    }

    /// Serials from a small alphabet so that prefixes, ranges and long shared runs are common; some
    /// use characters outside CSET 64 so that raw leaves are exercised too.
    static func serial(_ random: inout SplitMix64) -> [UInt8] {
        let alphabets: [[UInt8]] = [
            Array("AB01".utf8), Array("ABCDEFGH0123456789".utf8), Array("A!%/".utf8), cset82, cset82,
        ]
        let alphabet = alphabets[Int.random(in: 0..<alphabets.count, using: &random)]
        let length = Int.random(in: 1...20, using: &random)
        let base: [UInt8] = Int.random(in: 0..<4, using: &random) == 0 ? Array("SN00000000".utf8) : []
        let body = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
        return Array((base + body).prefix(20))
    }

    /// Every CSET 82 character: with it, nodes grow to 256 children and shrink back.
    static let cset82: [UInt8] = (0x21...0x7A).filter { GS1CharacterSet.cset82.contains($0) }

    static func binding(_ random: inout SplitMix64) -> SerialBinding {
        try! SerialBinding(
            distributor: Int64.random(in: 1...1_000_000, using: &random),
            shipment: Int64.random(in: 1...200_000_000, using: &random),
            boundAt: 1_700_000_000_000 + Int64.random(in: 0...100_000_000_000, using: &random)
        )
    }

    @Test(arguments: [(1, 1), (2, 1), (3, 3), (4, 7)])
    func agreesWithModel(seed: UInt64, shards: Int) throws {
        var random = SplitMix64(seed: seed)
        let index = try SerialIndex(shardCount: shards)
        var model = Model()
        var known: [IndexKey] = []
        func someKey() -> IndexKey {
            if !known.isEmpty && Int.random(in: 0..<3, using: &random) > 0 {
                return known.randomElement(using: &random)!
            }
            let key = try! IndexKey(gtin: Self.gtins.randomElement(using: &random)!, serial: Self.serial(&random))
            known.append(key)
            return key
        }
        for step in 0..<12_000 {
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<45:
                let key = someKey()
                let binding = Self.binding(&random)
                #expect(try index.bind(key, to: binding) == model.serials[key])
                model.serials[key] = binding
            case 45..<55:
                let key = someKey()
                let binding = Self.binding(&random)
                let present = model.serials[key] != nil
                #expect(index.rebind(key, to: binding) == present)
                if let old = model.serials[key] { model.serials[key] = old.rebound(to: binding) }
            case 55..<70:
                let key = someKey()
                #expect(index.unbind(key) == model.serials.removeValue(forKey: key))
            case 70..<78:
                let key = someKey()
                let prefix = key.serial.prefix(Int.random(in: 1...key.serial.count, using: &random))
                var binding = Self.binding(&random)
                let range = try IndexKey.range(gtin: key.number, prefix: prefix)
                if Bool.random(using: &random) {
                    try index.bindRange(gtin: key.number, prefix: prefix, to: binding)
                    binding.flags.insert(.fromRange)
                    model.ranges[range] = binding
                } else {
                    #expect(
                        try index.unbindRange(gtin: key.number, prefix: prefix)
                            == model.ranges.removeValue(forKey: range)
                    )
                }
            case 78..<84:
                let sscc = Self.ssccs.randomElement(using: &random)!
                let carton = try IndexKey(sscc: sscc)
                if model.cartons[carton] == nil && Bool.random(using: &random) {
                    let contents = Array(Set((0..<Int.random(in: 1...6, using: &random)).map { _ in someKey() }))
                    let binding = Self.binding(&random)
                    try index.bindCarton(sscc: sscc, contents: contents, to: binding)
                    model.serials[carton] = binding
                    var unit = binding
                    unit.flags.insert(.fromCarton)
                    for key in contents { model.serials[key] = model.serials[key].map { $0.rebound(to: unit) } ?? unit }
                    model.cartons[carton] = contents
                } else if let contents = model.cartons[carton] {
                    if Bool.random(using: &random) {
                        let binding = Self.binding(&random)
                        #expect(try index.rebindCarton(sscc: sscc, to: binding))
                        model.serials[carton] = model.serials[carton]!.rebound(to: binding)
                        var unit = binding
                        unit.flags.insert(.fromCarton)
                        for key in contents {
                            model.serials[key] = model.serials[key].map { $0.rebound(to: unit) } ?? unit
                        }
                    } else {
                        #expect(try index.unbindCarton(sscc: sscc) == model.serials.removeValue(forKey: carton))
                        for key in contents { model.serials.removeValue(forKey: key) }
                        model.cartons[carton] = nil
                    }
                    #expect(
                        try index.contents(sscc: sscc).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
                            == (model.cartons[carton] ?? []).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
                    )
                }
            default:
                let key = someKey()
                #expect(index.lookup(key) == model.lookup(key), "step \(step) \(key)")
            }
        }
        // Every key, one by one and as one batch.
        let probes = known + Self.ssccs.map { try! IndexKey(sscc: $0) }
        let batch = index.lookup(probes)
        for (position, key) in probes.enumerated() {
            let expected = model.lookup(key)
            #expect(index.lookup(key) == expected, "\(key)")
            #expect(batch[position] == expected, "batch \(key)")
        }
        // Ordered scans per GTIN list exactly the model's serials and ranges, in byte order.
        for gtin in Self.gtins {
            var scanned: [IndexKey] = []
            try index.forEachBinding(gtin: gtin) { key, binding in
                #expect((key.isRange ? model.ranges[key] : model.serials[key]) == binding, "\(key)")
                scanned.append(key)
                return true
            }
            let expected = (Array(model.serials.keys) + Array(model.ranges.keys)).filter {
                $0.isItem && $0.number == gtin
            }
            .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            #expect(scanned == expected)
        }
        let contentsEntries = model.cartons.values.reduce(0) { $0 + $1.count }
        #expect(index.count == model.serials.count + model.ranges.count * shards + contentsEntries)
    }

    /// Removing every key leaves an empty tree whose freed slots are reused: adding the same keys
    /// again finds the same tree, and the arenas grow by less than 1 % (the leaves moved during
    /// splits differ in size with the order of insertion).
    @Test func removingEverythingEmptiesTheTree() throws {
        var random = SplitMix64(seed: 99)
        let index = try SerialIndex()
        let keys = Array(
            Set(
                (0..<5_000).map { _ in
                    try! IndexKey(gtin: Self.gtins.randomElement(using: &random)!, serial: Self.serial(&random))
                }
            )
        )
        for key in keys { try index.bind(key, to: Self.binding(&random)) }
        let used = index.bytesUsed
        for key in keys.shuffled(using: &random) { #expect(index.unbind(key) != nil) }
        #expect(index.count == 0)
        #expect(index.shards[0].tree.root.isNone)
        for key in keys { try index.bind(key, to: Self.binding(&random)) }
        #expect(index.bytesUsed < used + used / 100)
        #expect(index.count == keys.count)
        #expect(index.lookup(keys).allSatisfy { $0 != nil })
    }
}

import ChannelGuardCodes
import ChannelGuardCommerce
import Testing

/// Every AI of the table, with a valid generated value, decodes back to the same value in
/// bracketed and unbracketed (GS-separated) form, and as a Digital Link data attribute where allowed.
@Suite struct EveryAIRoundTripTests {
    let table = AITable.standard
    let decoder = CodeDecoder()

    /// A valid value for every component of `definition` (the longest the component allows, capped).
    func value(for definition: AIDefinition, using random: inout some RandomNumberGenerator) -> String {
        var text = ""
        for component in definition.components {
            let length =
                component.minimumLength == component.maximumLength
                ? component.maximumLength : min(component.maximumLength, max(component.minimumLength, 10))
            text += part(component, length: length, using: &random)
        }
        return text
    }

    func part(_ component: AIComponent, length: Int, using random: inout some RandomNumberGenerator) -> String {
        let alphabet: [Character] =
            switch component.characterSet {
            case .numeric: Array("0123456789")
            case .cset82: Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789-./_")
            case .cset39: Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-/#")
            case .cset64: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            }
        var chars = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
        func digits(_ text: String) -> [Character] { Array(text) }
        // Check characters last, after every other fix-up.
        let ordered =
            component.linters.filter { $0 != .csum && $0 != .csumalpha }
            + component.linters.filter { $0 == .csum || $0 == .csumalpha }
        for linter in ordered {
            switch linter {
            case .gcppos1, .gcppos2:
                for index in 0..<min(5, chars.count) { chars[index] = "1" }
            case .hasnondigit: chars[max(0, chars.count - 3)] = "A"  // after a company prefix, before a check pair
            case .nozeroprefix, .nonzero: chars[0] = "1"
            case .zero: chars = Array(repeating: "0", count: length)
            case .yesno: chars = ["1"]
            case .winding: chars = ["9"]
            case .hyphen: chars = ["-"]
            case .iso5218: chars = ["2"]
            case .iso3166, .iso3166999: chars = digits("156")
            case .iso3166alpha2: chars = ["C", "N"]
            case .packagetype: chars = ["B", "X"]
            case .iban: chars = Array(Self.iban(length: max(5, length), using: &random))
            case .yymmd0, .yymmdd: chars = digits("261231")
            case .yyyymmdd: chars = digits("20261231")
            case .hhmi: chars = digits("2359")
            case .hh: chars = digits("23")
            case .mi, .ss: chars = digits("59")
            case .pieceoftotal:
                chars = digits(
                    String(repeating: "0", count: length / 2 - 1) + "1" + String(repeating: "0", count: length / 2 - 1)
                        + "2"
                )
            case .posinseqslash: chars = digits("1/2")
            case .latitude, .longitude: chars = Array(repeating: "0", count: length)
            case .pcenc: chars = chars.map { $0 == "%" ? "A" : $0 }
            case .mediatype: chars = digits("80")
            case .iso4217: chars = digits("156")
            case .importeridx: chars = ["_"]
            case .csum:
                let data = String(chars.dropLast())
                chars[chars.count - 1] = Character(String(GS1CheckDigit.compute(forDataDigits: data)!))
            case .csumalpha:
                chars = Array(Self.withCheckPair(String(chars.dropLast(2))))
            case .couponcode:
                // Company prefix, offer code, save value, first purchase (requirement, code, family).
                chars = Array("0" + "123456" + "123456" + "11" + "11" + "0" + "123")
            case .couponposoffer:
                // Format, funder, offer code, serial number.
                chars = Array("0" + "0" + "123456" + "123456" + "0" + "123456")
            }
        }
        return String(chars)
    }

    /// A valid IBAN of `length` characters: a country, the check digits, then letters and digits.
    static func iban(length: Int, using random: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let account = String((0..<(length - 4)).map { _ in alphabet.randomElement(using: &random)! })
        var remainder = 0
        for character in account + "CN00" {
            let value = character.isNumber ? Int(String(character))! : Int(character.asciiValue! - 55)
            remainder = (remainder * (value < 10 ? 10 : 100) + value) % 97
        }
        let check = 98 - remainder
        return "CN" + (check < 10 ? "0" : "") + String(check) + account
    }

    static func percentEncoded(_ text: String) -> String {
        text.utf8.map { byte -> String in
            let c = Character(UnicodeScalar(byte))
            return c.isLetter || c.isNumber || "-._~".contains(c)
                ? String(c) : "%" + String(byte, radix: 16, uppercase: true)
        }.joined()
    }

    /// Appends the GS1 alphanumeric check character pair.
    static func withCheckPair(_ data: String) -> String {
        let order = Array("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
        let cset32 = Array("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
        var primes: [Int] = []
        var candidate = 2
        while primes.count < data.count {
            if !primes.contains(where: { candidate % $0 == 0 }) { primes.append(candidate) }
            candidate += 1
        }
        var sum = 0
        for (index, character) in data.enumerated() {
            sum += order.firstIndex(of: character)! * primes[data.count - 1 - index]
        }
        sum %= 1021
        return data + String(cset32[sum >> 5]) + String(cset32[sum & 31])
    }

    /// A concrete AI for a requisite pattern such as `31nn`.
    func concrete(_ pattern: AIPattern) -> String? {
        let candidates = table.definitions.keys.filter(pattern.matches).sorted()
        return candidates.first
    }

    /// The AIs to send with `ai` so that its requisites hold and nothing is exclusive: a key base
    /// plus the first satisfiable alternative of each requisite rule.
    func companions(of ai: String) -> [String]? {
        for base in [["01", "21"], ["00"]] {
            var set = base.filter { $0 != ai } + [ai]
            var usable = true
            var pending = [ai]
            while let next = pending.popLast() {
                for rule in table[next]!.requisites {
                    if rule.contains(where: { alternative in
                        alternative.allSatisfy { p in set.contains(where: p.matches) }
                    }) {
                        continue
                    }
                    guard let alternative = rule.first(where: { $0.allSatisfy { concrete($0) != nil } }) else {
                        usable = false
                        break
                    }
                    for pattern in alternative where !set.contains(where: pattern.matches) {
                        let chosen = concrete(pattern)!
                        set.append(chosen)
                        pending.append(chosen)
                    }
                }
            }
            let exclusive = set.contains { a in
                table[a]!.exclusions.contains { p in set.contains { $0 != a && p.matches($0) } }
            }
            if usable && !exclusive { return set }
        }
        return nil
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func everyAIRoundTrips(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var covered = 0
        var uncovered: [String] = []
        for ai in table.definitions.keys.sorted() {
            guard let set = companions(of: ai) else {
                uncovered.append(ai)
                continue
            }
            var values: [String: String] = [:]
            for member in set { values[member] = value(for: table[member]!, using: &random) }
            values["01"] = values["01"].map { _ in "06901234567892" }
            let bracketed = set.map { "(\($0))\(values[$0]!)" }.joined()
            let unbracketed = set.map { member in
                member + values[member]! + (table[member]!.isPredefinedLength ? "" : "\u{1D}")
            }.joined()
            for (form, text) in [("bracketed", bracketed), ("unbracketed", unbracketed)] {
                switch decoder.decode(text) {
                case .success(let code):
                    #expect(code.value(of: ai) == values[ai], "AI \(ai), \(form): \(text.debugDescription)")
                case .failure(let rejection):
                    Issue.record("AI \(ai), \(form): \(text.debugDescription) rejected: \(rejection)")
                }
            }
            if table[ai]!.isDigitalLinkAttribute, set.allSatisfy({ ["01", "21", ai].contains($0) }), ai != "01",
                ai != "21"
            {
                let uri =
                    "https://id.example.com/01/06901234567892/21/\(Self.percentEncoded(values["21"]!))?\(ai)="
                    + Self.percentEncoded(values[ai]!)
                switch decoder.decode(uri) {
                case .success(let code): #expect(code.value(of: ai) == values[ai], "\(uri)")
                case .failure(let rejection):
                    Issue.record("AI \(ai) as a Digital Link attribute: \(uri) rejected: \(rejection)")
                }
            }
            covered += 1
        }
        #expect(covered + uncovered.count == table.definitions.count)
        #expect(uncovered.isEmpty, "AIs without a consistent companion set: \(uncovered)")
    }
}

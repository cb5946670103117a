/// The content checks ("linters") the GS1 Barcode Syntax Dictionary names for AI components.
///
/// Every linter name in the dictionary has a case, so a dictionary naming an unknown check fails
/// to load instead of being half-applied; every check is applied.
public enum GS1Linter: String, Sendable, CaseIterable {
    case csum, csumalpha, gcppos1, gcppos2
    case yymmd0, yymmdd, yyyymmdd, hhmi, hh, mi, ss
    case nonzero, zero, yesno, pieceoftotal, posinseqslash, hasnondigit, nozeroprefix, pcenc
    case latitude, longitude, winding, hyphen, iso5218
    case iso3166, iso3166999, iso3166alpha2, iso4217, iban, mediatype, packagetype
    case couponcode, couponposoffer, importeridx

    /// A failed check: the reason, the offset inside the component, and what is wrong.
    public struct Failure: Hashable, Sendable {
        public var reason: CodeRejection.Reason
        public var offset: Int
        public var message: String
    }

    /// Checks one component's bytes; `nil` when they pass (or the check is not implemented).
    public func check(_ data: UnsafeBufferPointer<UInt8>) -> Failure? {
        switch self {
        case .csum:
            return GS1CheckDigit.isValid(data)
                ? nil : Failure(reason: .badCheckDigit, offset: max(0, data.count - 1), message: "wrong check digit")
        case .csumalpha: return Self.checkCharacterPair(data)
        case .gcppos1: return Self.companyPrefix(data, from: 0)
        case .gcppos2: return Self.companyPrefix(data, from: 1)
        case .yymmd0: return Self.date(data, yearDigits: 2, dayZeroAllowed: true)
        case .yymmdd: return Self.date(data, yearDigits: 2, dayZeroAllowed: false)
        case .yyyymmdd: return Self.date(data, yearDigits: 4, dayZeroAllowed: false)
        case .hhmi: return Self.number(data, 0, 2, max: 23, "hour") ?? Self.number(data, 2, 2, max: 59, "minute")
        case .hh: return Self.number(data, 0, 2, max: 23, "hour")
        case .mi: return Self.number(data, 0, 2, max: 59, "minute")
        case .ss: return Self.number(data, 0, 2, max: 59, "second")
        case .nonzero:
            return data.allSatisfy({ $0 == UInt8(ascii: "0") })
                ? Failure(reason: .badValue, offset: 0, message: "must not be zero") : nil
        case .zero:
            return data.firstIndex(where: { $0 != UInt8(ascii: "0") }).map {
                Failure(reason: .badValue, offset: $0, message: "must be zero")
            }
        case .yesno: return Self.oneOf(data, "01", "must be 0 (no) or 1 (yes)")
        case .winding: return Self.oneOf(data, "019", "must be 0, 1 or 9")
        case .iso5218: return Self.oneOf(data, "0129", "must be an ISO/IEC 5218 sex code (0, 1, 2 or 9)")
        case .hyphen: return Self.oneOf(data, "-", "must be a hyphen")
        case .pieceoftotal: return Self.pieceOfTotal(data)
        case .posinseqslash: return Self.positionInSequence(data)
        case .hasnondigit:
            return data.contains(where: { $0 < UInt8(ascii: "0") || $0 > UInt8(ascii: "9") })
                ? nil : Failure(reason: .badValue, offset: 0, message: "must contain a non-digit")
        case .nozeroprefix:
            return data.count > 1 && data.first == UInt8(ascii: "0")
                ? Failure(reason: .badValue, offset: 0, message: "must not start with zero") : nil
        case .pcenc: return Self.percentEncoding(data)
        case .iso3166: return Self.country(data, allowing999: false)
        case .iso3166999: return Self.country(data, allowing999: true)
        case .iso3166alpha2: return Self.alpha2Country(data)
        case .iban: return Self.iban(data)
        case .couponcode: return Self.couponCode(data)
        case .couponposoffer: return Self.couponPositiveOffer(data)
        case .packagetype:
            return PackageTypes.contains(data)
                ? nil
                : Failure(reason: .badValue, offset: 0, message: "not a package type code (UN/ECE Recommendation 21)")
        case .iso4217:
            guard data.count == 3, let code = Self.decimal(data, 0, 3), ISO4217.numericCodes.contains(code) else {
                return Failure(reason: .badValue, offset: 0, message: "not an ISO 4217 currency code")
            }
            return nil
        case .mediatype:
            guard data.count == 2, let code = Self.decimal(data, 0, 2),
                (1...10).contains(code) || (80...99).contains(code)
            else { return Failure(reason: .badValue, offset: 0, message: "not an AIDC media type (01–10, 80–99)") }
            return nil
        case .importeridx:
            guard data.count == 1, GS1CharacterSet.cset64.contains(data[0]), data[0] != UInt8(ascii: "=") else {
                return Failure(reason: .badValue, offset: 0, message: "an importer index is one of -, 0–9, A–Z, _, a–z")
            }
            return nil
        case .latitude: return Self.atMost(data, 1_800_000_000, "latitude out of range")
        case .longitude: return Self.atMost(data, 3_600_000_000, "longitude out of range")
        }
    }
}

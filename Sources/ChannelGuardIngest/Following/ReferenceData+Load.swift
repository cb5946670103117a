import ChannelGuardCodes
import ChannelGuardDetection
import ChannelGuardStore
import ChannelGuardTerritory
import Foundation

extension ReferenceData {
    /// Reads gateways, distributors, territory grants and price floors from the database. Rows that
    /// cannot be used (a secret that is not hex, a region outside the catalogue's code shape) are
    /// skipped and returned as descriptions.
    public static func load(
        _ connection: LibPQConnection,
        catalog: RegionCatalog = .bundled
    ) throws -> (ReferenceData, skipped: [String]) {
        var skipped: [String] = []
        let version =
            Int64(try connection.execute("SELECT coalesce(max(seq), 0) FROM reference_changes")[0][0] ?? "0") ?? 0
        var gateways: [Gateway] = []
        for row in try connection.execute(
            "SELECT id, encode(secret, 'hex'), owner_distributor_id, status = 'active', kind, steps FROM gateways"
        ) {
            guard let id = UInt32(row[0] ?? ""), let secret = Hex.decode(row[1] ?? "x"),
                let owner = Int64(row[2] ?? ""),
                let kind = GatewayKind(rawValue: row[4] ?? "")
            else {
                skipped.append("gateway \(row[0] ?? "?"): unreadable row")
                continue
            }
            var steps: StepSet?
            if let list = row[5] {
                // A text[] literal of step names, e.g. {ship,receive}.
                steps = StepSet()
                for name in list.trimmingCharacters(in: ["{", "}"]).split(separator: ",") {
                    guard let step = ScanStep(rawValue: String(name)) else {
                        skipped.append("gateway \(id): unknown step \(name) (its kind's steps apply)")
                        steps = nil
                        break
                    }
                    steps?.insert(StepSet(step))
                }
            }
            gateways.append(
                Gateway(id: id, secret: secret, owner: owner, active: row[3] == "t", kind: kind, steps: steps)
            )
        }
        var distributorIDs: [String: Int64] = [:]
        var parents: [Int64: Int64] = [:]
        for row in try connection.execute("SELECT id, code, parent_id, status <> 'terminated' FROM distributors") {
            guard let id = Int64(row[0] ?? "") else { continue }
            if let parent = row[2].flatMap({ Int64($0) }) { parents[id] = parent }
            if row[3] == "t", let code = row[1] { distributorIDs[code] = id }
        }
        var grants: [Int64: [Grant]] = [:]
        for row in try connection.execute(
            """
            SELECT distributor_id, region_code, (extract(epoch FROM valid_from) * 1000)::bigint,
                   (extract(epoch FROM valid_to) * 1000)::bigint
            FROM territory_grants
            """
        ) {
            guard let distributor = Int64(row[0] ?? ""), let region = RegionCode(row[1] ?? ""),
                let from = Int64(row[2] ?? "")
            else {
                skipped.append("territory grant \(row[0] ?? "?")/\(row[1] ?? "?"): unreadable row")
                continue
            }
            grants[distributor, default: []].append(Grant(region: region, from: from, to: row[3].flatMap { Int64($0) }))
        }
        var floors: [UInt64: [PriceFloor]] = [:]
        for row in try connection.execute(
            """
            SELECT p.gtin, m.region_code, (m.min_price * 100)::bigint,
                   (extract(epoch FROM m.valid_from::timestamptz) * 1000)::bigint,
                   (extract(epoch FROM m.valid_to::timestamptz) * 1000)::bigint
            FROM minimum_retail_prices m JOIN products p ON p.id = m.product_id
            """
        ) {
            guard let gtin = UInt64(row[0] ?? ""), let minimum = Int64(row[2] ?? ""), let from = Int64(row[3] ?? "")
            else {
                skipped.append("price floor for \(row[0] ?? "?"): unreadable row")
                continue
            }
            var region: RegionCode?
            if let code = row[1] {
                guard let parsed = RegionCode(code) else {
                    skipped.append("price floor for \(row[0] ?? "?"): bad region \(code)")
                    continue
                }
                region = parsed
            }
            floors[gtin, default: []].append(
                PriceFloor(region: region, minimum: minimum, from: from, to: row[4].flatMap { Int64($0) })
            )
        }
        let data = ReferenceData(
            gateways: gateways,
            grants: grants,
            distributorIDs: distributorIDs,
            parents: parents,
            floors: floors,
            version: version,
            catalog: catalog
        )
        return (data, skipped)
    }
}

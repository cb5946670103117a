import ChannelGuardCodes
import ChannelGuardStore

/// What the load generator sends, built from the database it targets: real bound serials with
/// their owners' territories, so that the daemon's verdicts can be checked against ground truth.
///
/// - Legitimate scans: `receive` (party = the owner) and `inspect`, in the owner's home region —
///   inside the territory, never a duplicate, never travel; no alert is expected.
/// - Diversions: `inspect` of a serial from a separate pool, in a province outside the owner's
///   territory (always the same one per serial, so runs never look like travel); exactly one
///   `out_of_territory` alert is expected for each.
public struct LoadWorkload: Sendable {
    public struct Serial: Sendable {
        public var gtin: UInt64
        public var serial: [UInt8]
        public var owner: String
        public var home: UInt32
        public var foreign: UInt32
    }

    public var legitimate: [Serial]
    public var diverted: [Serial]
    public var gateways: [(id: UInt32, secret: [UInt8], nextSequence: UInt64)]

    /// Reads up to `serials` bound serials (every 50th set aside for diversions) and the gateways.
    public static func load(_ connection: LibPQConnection, serials: Int, gateways wanted: Int) throws -> LoadWorkload {
        let provinces = try connection.execute("SELECT code FROM regions WHERE code LIKE '__0000' ORDER BY code")
            .compactMap { $0[0].flatMap { UInt32($0) } }
        let rows = try connection.execute(
            """
            WITH home AS (
                SELECT DISTINCT ON (distributor_id) distributor_id, region_code
                FROM territory_grants
                WHERE valid_from <= now() AND (valid_to IS NULL OR valid_to > now())
                ORDER BY distributor_id, kind, id)
            SELECT b.gtin, b.serial, d.code, h.region_code,
                   (SELECT string_agg(DISTINCT left(g.region_code, 2), ',') FROM territory_grants g WHERE g.distributor_id = d.id)
            FROM serial_bindings b
            JOIN shipments s ON s.id = b.shipment_id
            JOIN distributors d ON d.id = s.to_distributor_id
            JOIN home h ON h.distributor_id = d.id
            ORDER BY b.gtin, b.serial
            LIMIT $1::bigint
            """,
            ["\(serials)"]
        )
        var legitimate: [Serial] = []
        var diverted: [Serial] = []
        for (number, row) in rows.enumerated() {
            guard let gtin = UInt64(row[0] ?? ""), let serial = row[1], let owner = row[2],
                let home = UInt32(row[3] ?? "")
            else { continue }
            let granted = Set((row[4] ?? "").split(separator: ",").compactMap { UInt32($0) })
            let candidates = provinces.filter { !granted.contains($0 / 10_000) }
            guard !candidates.isEmpty else { continue }
            let foreign = candidates[Int(stableHash(serial) % UInt64(candidates.count))]
            let entry = Serial(gtin: gtin, serial: Array(serial.utf8), owner: owner, home: home, foreign: foreign)
            if number % 50 == 49 { diverted.append(entry) } else { legitimate.append(entry) }
        }
        // Each gateway continues after the highest sequence any shard has stored for it; only the
        // kinds that may send receive and inspect scans (warehouse PDAs, store POS).
        let gatewayRows = try connection.execute(
            """
            SELECT g.id, encode(g.secret, 'hex'), coalesce(max(o.last_sequence), 0)
            FROM gateways g LEFT JOIN gateway_offsets o ON o.gateway_id = g.id
            WHERE g.status = 'active' AND g.kind IN ('warehouse_pda', 'store_pos')
            GROUP BY g.id ORDER BY g.id LIMIT $1::bigint
            """,
            ["\(wanted)"]
        )
        let gateways = gatewayRows.compactMap { row -> (UInt32, [UInt8], UInt64)? in
            guard let id = UInt32(row[0] ?? ""), let secret = Hex.decode(row[1] ?? "x"), let last = UInt64(row[2] ?? "")
            else { return nil }
            return (id, secret, last + 1)
        }
        return LoadWorkload(legitimate: legitimate, diverted: diverted, gateways: gateways)
    }
}

/// FNV-1a: the same number for the same serial in every run (Swift's hashes are seeded per process).
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}

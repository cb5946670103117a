import ChannelGuardTerritory
import Foundation

/// One versioned step of the schema.
public struct Migration: Sendable {
    /// How a migration changes the database.
    public enum Body: Sendable {
        /// A script of SQL statements.
        case sql(String)
        /// Code that runs inside the migration's transaction.
        case code(@Sendable (LibPQConnection) throws -> Void)
    }

    public let version: Int
    public let name: String
    /// A fingerprint of the migration's content; an applied migration whose fingerprint changed is refused.
    public let checksum: String
    public let body: Body

    public init(version: Int, name: String, checksum: String, body: Body) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.body = body
    }

    /// A SQL migration; the checksum is derived from the text.
    public static func sql(version: Int, name: String, _ text: String) -> Migration {
        Migration(version: version, name: name, checksum: fingerprint(text), body: .sql(text))
    }

    /// The migrations this binary carries, in order.
    public static let all: [Migration] = [
        .sql(version: 1, name: "schema", bundledSQL("0001_schema")),
        regions,
        .sql(version: 3, name: "binding_changes", bundledSQL("0003_binding_changes")),
        .sql(version: 4, name: "reference_changes", bundledSQL("0004_reference_changes")),
        .sql(version: 5, name: "rollup_folding", bundledSQL("0005_rollup_folding")),
        .sql(version: 6, name: "binding_change_keys", bundledSQL("0006_binding_change_keys")),
        .sql(version: 7, name: "incidents_and_webhooks", bundledSQL("0007_incidents_and_webhooks")),
        .sql(version: 8, name: "flush_and_fold", bundledSQL("0008_flush_and_fold")),
        .sql(version: 9, name: "rollup_fillfactor", bundledSQL("0009_rollup_fillfactor")),
        .sql(version: 10, name: "database_identity", bundledSQL("0010_database_identity")),
        .sql(version: 11, name: "notify_after_commit", bundledSQL("0011_notify_after_commit")),
        .sql(version: 12, name: "gtin14_arithmetic_check", bundledSQL("0012_gtin14_arithmetic_check")),
        .sql(version: 13, name: "detection_rules", bundledSQL("0013_detection_rules")),
        .sql(version: 14, name: "gateway_steps", bundledSQL("0014_gateway_steps")),
        .sql(version: 15, name: "binding_changes_in_commit_order", bundledSQL("0015_binding_changes_in_commit_order")),
    ]

    /// Version 2: the GB/T 2260 regions from the bundled catalogue.
    static let regions: Migration = {
        let csv = (try? String(contentsOf: RegionCatalog.bundledCSVURL, encoding: .utf8)) ?? ""
        return Migration(version: 2, name: "regions", checksum: fingerprint(csv)) { connection in
            try connection.copyIn("COPY regions (code, name, longitude, latitude) FROM STDIN (FORMAT binary)") { sink in
                for region in RegionCatalog.bundled.regions {
                    sink.encoder.beginRow(fieldCount: 4)
                    sink.encoder.appendText(region.code.description)
                    sink.encoder.appendText(region.name)
                    if let point = region.centroid {
                        sink.encoder.appendDouble(point.longitude)
                        sink.encoder.appendDouble(point.latitude)
                    } else {
                        sink.encoder.appendNull()
                        sink.encoder.appendNull()
                    }
                    try sink.endRow()
                }
            }
        }
    }()

    private init(
        version: Int,
        name: String,
        checksum: String,
        code: @escaping @Sendable (LibPQConnection) throws -> Void
    ) {
        self.init(version: version, name: name, checksum: checksum, body: .code(code))
    }

    static func bundledSQL(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "sql", subdirectory: "Migrations"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { fatalError("migration \(name).sql is missing from the ChannelGuardStore resources") }
        return text
    }

    /// FNV-1a 64-bit of the UTF-8 bytes, as 16 hex digits.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

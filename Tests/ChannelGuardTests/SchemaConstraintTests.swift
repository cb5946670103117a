import ChannelGuardCodes
import ChannelGuardCommerce
import ChannelGuardDetection
import ChannelGuardStore
import ChannelGuardTestSupport
import Testing

/// The schema refuses bad rows itself, whoever writes them.
@Suite(.database) struct SchemaConstraintTests {
    func connect() throws -> LibPQConnection { try TestDatabase.require().connect() }

    /// Runs `sql` expecting a violation whose message names `constraint`.
    func expectRejected(
        _ sql: String,
        naming constraint: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let connection = try connect()
        let error = #expect(throws: StoreError.self, "accepted: \(sql)", sourceLocation: sourceLocation) {
            try connection.execute(sql)
        }
        if let error {
            #expect(error.message.contains(constraint), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    @Test func gtinCheckDigitIsEnforced() throws {
        try connect().execute(
            "INSERT INTO products (gtin, sku, name, category) VALUES ('06901234567892', 'OK-1', 'Good', 'test')"
        )
        try expectRejected(
            "INSERT INTO products (gtin, sku, name, category) VALUES ('06901234567893', 'BAD-1', 'Bad', 'test')",
            naming: "gtin14_check"
        )
        try expectRejected(
            "INSERT INTO products (gtin, sku, name, category) VALUES ('0690123456789A', 'BAD-2', 'Bad', 'test')",
            naming: "gtin14_check"
        )
    }

    /// The domain's check (migration 12: arithmetic on the number, no regular expression) agrees
    /// with the decoders' check digit on valid and invalid GTINs and on strings that are not 14
    /// digits but that a cast to a number would accept (signs, spaces, other digits).
    @Test func gtinCheckAgreesWithTheDecoders() throws {
        var random = SplitMix64(seed: 14)
        var codes = [
            "", "0", "1234567890123", "123456789012345", "00000000000000", "99999999999997", "99999999999999",
            " 2345678901231", "+2345678901231", "-2345678901231", "1234567890123 ", "1234_678901231",
            "1.345678901231", "0x345678901231", "1e+45678901231", "１２３４５６７８９０１２３１", "12345678901231",
        ]
        for index in 0..<2_000 {
            var digits = (0..<13).map { _ in UInt8(ascii: "0") + UInt8(random.next() % 10) }
            let check = GS1CheckDigit.compute(forDataDigits: digits) ?? 0
            // Half valid; the other half with a check digit off by 1 to 9.
            let offset = index % 2 == 0 ? 0 : UInt8(1 + random.next() % 9)
            digits.append(UInt8(ascii: "0") + (check + offset) % 10)
            codes.append(String(decoding: digits, as: UTF8.self))
        }
        let rows = try connect().execute(
            "SELECT v, gtin14_is_valid(v) FROM unnest(string_to_array($1, '|')) WITH ORDINALITY AS t(v, i) ORDER BY i",
            [codes.joined(separator: "|")]
        )
        try #require(rows.count == codes.count)
        var valid = 0
        for (code, row) in zip(codes, rows) {
            let expected =
                code.utf8.count == 14 && code.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } && GS1CheckDigit.isValid(code)
            #expect(row[0] == code)
            #expect(row[1] == (expected ? "t" : "f"), "\(code)")
            if expected { valid += 1 }
        }
        #expect(valid > 1_000)
        #expect(try connect().execute("SELECT gtin14_is_valid(NULL) IS NULL").first?.first == "t")
    }

    @Test func regionCodesMustHaveTheirShape() throws {
        try expectRejected(
            "INSERT INTO regions (code, name) VALUES ('440005', 'county without city')",
            naming: "region_code_check"
        )
        try expectRejected("INSERT INTO regions (code, name) VALUES ('04030', 'short')", naming: "region_code_check")
        try expectRejected(
            "INSERT INTO regions (code, name) VALUES ('004400', 'no province')",
            naming: "region_code_check"
        )
        // A well-formed code that is not a known region cannot be granted.
        try expectRejected(
            """
            INSERT INTO distributors (code, name, tier) VALUES ('HQ-R', 'hq', 'hq');
            INSERT INTO territory_grants (distributor_id, region_code)
            SELECT id, '449999' FROM distributors WHERE code = 'HQ-R'
            """,
            naming: "territory_grants_region_code_fkey"
        )
    }

    @Test func distributorCannotBeItsOwnAncestor() throws {
        let connection = try connect()
        try connection.execute(
            """
            INSERT INTO distributors (code, name, tier) VALUES ('HQ-C', 'hq', 'hq');
            INSERT INTO distributors (code, name, tier, parent_id) SELECT 'PA-C', 'agent', 'provincial_agent', id FROM distributors WHERE code = 'HQ-C';
            INSERT INTO distributors (code, name, tier, parent_id) SELECT 'CD-C', 'dealer', 'city_dealer', id FROM distributors WHERE code = 'PA-C';
            INSERT INTO distributors (code, name, tier, parent_id) SELECT 'ST-C', 'store', 'store', id FROM distributors WHERE code = 'CD-C';
            """
        )
        let path = try connection.execute("SELECT array_length(path, 1) FROM distributors WHERE code = 'ST-C'")[0][0]
        #expect(path == "4")
        try expectRejected(
            "UPDATE distributors SET parent_id = id WHERE code = 'CD-C'",
            naming: "distributors_no_cycle"
        )
        // Making the agent a child of its own grandchild closes a cycle.
        try expectRejected(
            """
            UPDATE distributors SET tier = 'store', parent_id = (SELECT id FROM distributors WHERE code = 'ST-C')
            WHERE code = 'PA-C'
            """,
            naming: "distributors_no_cycle"
        )
        // A dealer cannot sit above an agent.
        try expectRejected(
            """
            INSERT INTO distributors (code, name, tier, parent_id)
            SELECT 'PA-X', 'agent', 'provincial_agent', id FROM distributors WHERE code = 'CD-C'
            """,
            naming: "distributors_tier_order"
        )
        try expectRejected(
            "INSERT INTO distributors (code, name, tier) VALUES ('PA-Y', 'orphan', 'provincial_agent')",
            naming: "distributors_root_is_hq"
        )
    }

    @Test func movingADistributorMovesItsSubtree() throws {
        let connection = try connect()
        try connection.execute(
            """
            INSERT INTO distributors (code, name, tier) VALUES ('HQ-M', 'hq', 'hq');
            INSERT INTO distributors (code, name, tier, parent_id) SELECT 'PA-M1', 'a1', 'provincial_agent', id FROM distributors WHERE code = 'HQ-M';
            INSERT INTO distributors (code, name, tier, parent_id) SELECT 'PA-M2', 'a2', 'provincial_agent', id FROM distributors WHERE code = 'HQ-M';
            INSERT INTO distributors (code, name, tier, parent_id) SELECT 'CD-M', 'd', 'city_dealer', id FROM distributors WHERE code = 'PA-M1';
            INSERT INTO distributors (code, name, tier, parent_id) SELECT 'ST-M', 's', 'store', id FROM distributors WHERE code = 'CD-M';
            UPDATE distributors SET parent_id = (SELECT id FROM distributors WHERE code = 'PA-M2') WHERE code = 'CD-M';
            """
        )
        let ok = try connection.execute(
            """
            SELECT (SELECT id FROM distributors WHERE code = 'PA-M2') = ANY (path)
               AND NOT (SELECT id FROM distributors WHERE code = 'PA-M1') = ANY (path)
            FROM distributors WHERE code = 'ST-M'
            """
        )[0][0]
        #expect(ok == "t")
    }

    @Test func serialsUseCharacterSet82() throws {
        try expectRejected("SELECT 'A#1'::gs1_serial", naming: "gs1_serial_check")
        try expectRejected("SELECT '123456789012345678901'::gs1_serial", naming: "gs1_serial_check")
        #expect(try connect().execute(#"SELECT 'Ab-3/9%_"?'::gs1_serial"#)[0][0] == #"Ab-3/9%_"?"#)
        try expectRejected("SELECT '106141411234567898'::sscc18", naming: "sscc18_check")
    }

    @Test func rulesSeveritiesAndWorkflowsAreClosedSets() throws {
        try expectRejected(
            """
            INSERT INTO alerts (rule, severity, scanned_at, step, gtin, scan_region)
            VALUES ('made_up', 'low', now(), 'sell', '06901234567892', '110000')
            """,
            naming: "alerts_rule_check"
        )
        try expectRejected(
            """
            INSERT INTO incidents (rule, window_start, window_end, severity, status)
            VALUES ('duplicate', now(), now() + interval '1 hour', 'low', 'dismissed')
            """,
            naming: "incidents_dismissal_has_reason"
        )
        try expectRejected(
            "INSERT INTO accounts (username, display_name, role) VALUES ('dist1', 'Dealer', 'distributor')",
            naming: "accounts_distributor_scope"
        )
    }

    @Test func everyDetectionRuleIsStorable() throws {
        let connection = try connect()
        for rule in AlertRule.allCases.map(\.rawValue) {
            try connection.execute(
                """
                INSERT INTO alerts (rule, severity, scanned_at, step, gtin, scan_region)
                VALUES ($1, 'high', now(), 'sell', '06901234567892', '440305')
                """,
                [rule]
            )
        }
    }

    @Test func scanBatchesArePartitionedByDay() throws {
        let connection = try connect()
        try connection.execute("SELECT ensure_scan_batch_partitions(current_date, 3)")
        try connection.execute(
            """
            INSERT INTO scan_batches (shard, format_version, event_count, first_scan_at, last_scan_at, raw_bytes, payload)
            VALUES (0, 1, 10, now(), now(), 100, '\\x28b52ffd'::bytea)
            """
        )
        let partition = try connection.execute("SELECT tableoid::regclass::text FROM scan_batches")[0][0]
        #expect(partition?.hasPrefix("scan_batches_2") == true)
        let storage = try connection.execute(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'payload'",
            [partition]
        )[0][0]
        #expect(storage == "e")
    }
}

import ChannelGuardStore
import ChannelGuardTestSupport
import Testing

/// Binary result rows: bytes as stored, integers of every width and sign, NULL.
@Suite(.database) struct LibPQBinaryRowsTests {
    @Test func valuesArriveAsTheServerStoresThem() throws {
        let connection = try TestDatabase.require().connect()
        let rows = try connection.executeBinary(
            """
            SELECT 1234567890123::int8, (-2)::int8, (-40000)::int4, 300::int2, '\\x00ff0a00'::bytea,
                   ''::bytea, NULL::bytea
            UNION ALL
            SELECT (-9223372036854775808)::int8, 9223372036854775807::int8, 2147483647::int4, (-32768)::int2,
                   decode(repeat('ab', 100000), 'hex'), '\\x01'::bytea, '\\x02'::bytea
            """
        )
        try #require(rows.count == 2 && rows.allSatisfy { $0.count == 7 })
        #expect(rows[0][0...3].map(LibPQConnection.integer) == [1_234_567_890_123, -2, -40_000, 300])
        #expect(rows[0][4] == [0x00, 0xFF, 0x0A, 0x00])
        #expect(rows[0][5] == [] && rows[0][6] == nil)
        #expect(rows[1][0...3].map(LibPQConnection.integer) == [.min, .max, 2_147_483_647, -32_768])
        #expect(rows[1][4] == [UInt8](repeating: 0xAB, count: 100_000))
        #expect(rows[1][5] == [0x01] && rows[1][6] == [0x02])
        #expect(LibPQConnection.integer([1, 2, 3]) == nil && LibPQConnection.integer(nil) == nil)
    }

    @Test func statementsWithoutRowsAndErrors() throws {
        let connection = try TestDatabase.require().connect()
        #expect(try connection.executeBinary("CREATE TEMPORARY TABLE t (b bytea)").isEmpty)
        #expect(try connection.executeBinary("SELECT b FROM t").isEmpty)
        #expect(throws: StoreError.self) { try connection.executeBinary("SELECT no_such_column FROM t") }
    }
}

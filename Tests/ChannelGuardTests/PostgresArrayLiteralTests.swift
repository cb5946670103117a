import ChannelGuardStore
import ChannelGuardTestSupport
import Testing

/// Array literals come back from the server exactly as given: quotes, backslashes, commas, braces,
/// spaces, the word NULL and real NULLs.
@Suite(.database) struct PostgresArrayLiteralTests {
    @Test func valuesRoundTripThroughTheServer() throws {
        let connection = try TestDatabase.require().connect()
        let values: [String?] = [
            "plain", "with \"quotes\"", #"back\slash"#, "comma,brace{}", " spaced ", "NULL", nil, "", "中文", "{\"k\":1}",
        ]
        let rows = try connection.execute(
            "SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [PostgresArrayLiteral.text(values)]
        )
        #expect(rows.map { $0[0] } == values)
        #expect(
            try connection.execute("SELECT cardinality($1::text[])", [PostgresArrayLiteral.text([String?]())])[0][0]
                == "0"
        )
    }
}

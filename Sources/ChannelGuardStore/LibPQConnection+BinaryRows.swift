import CLibPQ

extension LibPQConnection {
    /// Runs one statement (no parameters) and returns its rows in PostgreSQL's binary format: each
    /// value's bytes as the server sends them (`bytea` as is, `int8` as 8 big-endian bytes), `nil`
    /// for NULL. For large `bytea` values, which text results would send as hex at twice the size
    /// and decode again here.
    public func executeBinary(_ sql: String) throws(StoreError) -> [[[UInt8]?]] {
        guard let result = PQexecParams(connection, sql, 0, nil, nil, nil, nil, 1) else {
            throw failure(.queryFailed, sql)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            let rowCount = PQntuples(result)
            let columnCount = PQnfields(result)
            var rows: [[[UInt8]?]] = []
            rows.reserveCapacity(Int(rowCount))
            for row in 0..<rowCount {
                var values: [[UInt8]?] = []
                for column in 0..<columnCount {
                    if PQgetisnull(result, row, column) == 1 {
                        values.append(nil)
                        continue
                    }
                    let length = Int(PQgetlength(result, row, column))
                    let start = UnsafeRawPointer(PQgetvalue(result, row, column)!)
                    values.append(Array(UnsafeRawBufferPointer(start: start, count: length)))
                }
                rows.append(values)
            }
            return rows
        default:
            throw StoreError(.queryFailed, Self.describe(result: result, sql: sql))
        }
    }

    /// A binary `int8` (or `int4`, `int2`) value as an integer; `nil` for another size.
    public static func integer(_ bytes: [UInt8]?) -> Int64? {
        guard let bytes, [2, 4, 8].contains(bytes.count) else { return nil }
        var value: Int64 = bytes[0] & 0x80 != 0 ? -1 : 0
        for byte in bytes { value = value << 8 | Int64(byte) }
        return value
    }
}

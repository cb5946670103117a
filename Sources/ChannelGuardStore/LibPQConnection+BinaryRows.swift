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
        return try values(of: result, sql: sql) { result, row, column in
            let length = Int(PQgetlength(result, row, column))
            return Array(UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length))
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

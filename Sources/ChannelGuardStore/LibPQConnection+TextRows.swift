extension LibPQConnection {
    /// Creates a temporary table of text columns, dropped at commit, and fills it by binary COPY.
    ///
    /// The way to bring many small rows in at once and merge them with one
    /// `INSERT … SELECT … ON CONFLICT`, casting the text columns there.
    @discardableResult
    public func stageTextRows(table: String, columns: [String], rows: [[String?]]) throws -> Int {
        let definition = columns.map { "\(quoteIdentifier($0)) text" }.joined(separator: ", ")
        try execute("CREATE TEMPORARY TABLE \(quoteIdentifier(table)) (\(definition)) ON COMMIT DROP")
        let list = columns.map(quoteIdentifier).joined(separator: ", ")
        return try copyIn("COPY \(quoteIdentifier(table)) (\(list)) FROM STDIN (FORMAT binary)") { sink in
            for row in rows {
                precondition(
                    row.count == columns.count,
                    "a staged row has \(row.count) values for \(columns.count) columns"
                )
                sink.encoder.beginRow(fieldCount: Int16(row.count))
                for value in row {
                    if let value { sink.encoder.appendText(value) } else { sink.encoder.appendNull() }
                }
                try sink.endRow()
            }
        }
    }

    /// Runs a data-modifying statement and returns how many rows it touched.
    public func executeCounting(_ sql: String, _ parameters: [String?] = []) throws -> Int {
        let rows = try execute("WITH touched AS (\(sql) RETURNING 1) SELECT count(*) FROM touched", parameters)
        return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }
}

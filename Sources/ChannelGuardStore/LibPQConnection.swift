import CLibPQ
import Foundation
import NIOPosix

/// A blocking libpq connection, for what postgres-nio does not do well: multi-statement scripts
/// (migrations) and binary COPY, which libpq streams at 1.6–2 M rows/s on this machine kind against
/// 0.4–0.5 M for postgres-nio's text-only COPY.
///
/// Not thread-safe: one owner at a time. Use ``withLibPQ(_:_:)`` to run it off the async executor.
public final class LibPQConnection {
    let connection: OpaquePointer

    /// Connects or throws ``StoreError/Code/connectionFailed``.
    public init(url: DatabaseURL) throws(StoreError) {
        guard let connection = PQconnectdb(url.urlString) else {
            throw StoreError(.connectionFailed, "libpq could not allocate a connection.")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(connection)
            throw StoreError(
                .connectionFailed,
                "Cannot connect to PostgreSQL at \(url): \(message)",
                fix: "Check that the server is running and the URL is right (channelguard db status)."
            )
        }
        self.connection = connection
        // Notices (e.g. "relation already exists, skipping") are not errors: keep them off stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { PQfinish(connection) }

    /// Runs one or more statements (simple query protocol) and returns the rows of the last one as text.
    @discardableResult
    public func execute(_ sql: String) throws(StoreError) -> [[String?]] {
        guard let result = PQexec(connection, sql) else { throw failure(.queryFailed, sql) }
        defer { PQclear(result) }
        return try rows(of: result, sql: sql)
    }

    /// Runs one statement with text parameters (`$1`, `$2`, …) and returns its rows as text.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?]) throws(StoreError) -> [[String?]] {
        try execute(sql, parameters: parameters.map { .text($0) })
    }

    /// A statement parameter: text (or NULL), or bytes sent in binary format (for `bytea`).
    public enum Parameter {
        case text(String?)
        case bytes([UInt8])
    }

    /// Runs one statement with text and binary parameters and returns its rows as text.
    @discardableResult
    public func execute(_ sql: String, parameters: [Parameter]) throws(StoreError) -> [[String?]] {
        var values: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        values.reserveCapacity(parameters.count)
        defer { for pointer in values { free(pointer) } }
        for parameter in parameters {
            switch parameter {
            case .text(let text):
                values.append(text.map { strdup($0) } ?? nil)
                lengths.append(0)
                formats.append(0)
            case .bytes(let bytes):
                let copy = malloc(max(bytes.count, 1))!.assumingMemoryBound(to: CChar.self)
                bytes.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { memcpy(copy, base, bytes.count) }
                }
                values.append(copy)
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        let pointers = values.map { UnsafePointer<CChar>($0) }
        guard let result = PQexecParams(connection, sql, Int32(parameters.count), nil, pointers, lengths, formats, 0)
        else { throw failure(.queryFailed, sql) }
        defer { PQclear(result) }
        return try rows(of: result, sql: sql)
    }

    /// Streams a binary COPY: runs `sql` (a `COPY … FROM STDIN (FORMAT binary)`), lets `body` write
    /// rows into the sink (sent to the server in chunks of about 1 MiB), and returns the number of
    /// rows the server stored. An error in `body` aborts the COPY, so nothing of it is stored.
    @discardableResult
    public func copyIn(_ sql: String, _ body: (inout CopyInSink) throws -> Void) throws -> Int {
        guard let start = PQexec(connection, sql) else { throw failure(.copyFailed, sql) }
        let status = PQresultStatus(start)
        let startMessage = Self.describe(result: start, sql: sql)
        PQclear(start)
        guard status == PGRES_COPY_IN else { throw StoreError(.copyFailed, startMessage) }
        var sink = CopyInSink(connection: connection)
        do {
            try body(&sink)
            sink.encoder.appendTrailer()
            try sink.send()
        } catch {
            PQputCopyEnd(connection, "aborted by the client: \(error)")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(connection, nil) == 1 else { throw failure(.copyFailed, sql) }
        return try copyResult(sql)
    }

    /// The server's answer at the end of a COPY: the row count, or the error it reports.
    private func copyResult(_ sql: String) throws(StoreError) -> Int {
        guard let result = PQgetResult(connection) else { throw failure(.copyFailed, sql) }
        defer {
            PQclear(result)
            drainResults()
        }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            throw StoreError(.copyFailed, Self.describe(result: result, sql: sql))
        }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Streams a COPY out: runs `sql` (a `COPY … TO STDOUT`) and calls `body` with each row as the
    /// server sends it (text format: one line, fields separated by tabs). Returns the row count.
    @discardableResult
    public func copyOut(_ sql: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard let start = PQexec(connection, sql) else { throw failure(.copyFailed, sql) }
        let status = PQresultStatus(start)
        let startMessage = Self.describe(result: start, sql: sql)
        PQclear(start)
        guard status == PGRES_COPY_OUT else { throw StoreError(.copyFailed, startMessage) }
        var rows = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(connection, &buffer, 0)
            if count == -1 { break }
            guard count >= 0, let row = buffer else { throw failure(.copyFailed, sql) }
            defer { PQfreemem(row) }
            do {
                try body(UnsafeRawBufferPointer(start: row, count: Int(count)))
            } catch {
                // Drop the rest of the COPY: cancel and drain, so the connection stays usable.
                if let cancel = PQgetCancel(connection) {
                    var message = [CChar](repeating: 0, count: 256)
                    PQcancel(cancel, &message, 256)
                    PQfreeCancel(cancel)
                }
                var rest: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(connection, &rest, 0) >= 0 { if let rest { PQfreemem(rest) } }
                drainResults()
                throw error
            }
            rows += 1
        }
        _ = try copyResult(sql)
        return rows
    }

    private func drainResults() {
        while let result = PQgetResult(connection) { PQclear(result) }
    }

    private func rows(of result: OpaquePointer, sql: String) throws(StoreError) -> [[String?]] {
        try values(of: result, sql: sql) { result, row, column in String(cString: PQgetvalue(result, row, column)) }
    }

    /// The rows of a result, each value read by `value` (`nil` for NULL); none for a command.
    func values<Value>(
        of result: OpaquePointer,
        sql: String,
        _ value: (OpaquePointer, Int32, Int32) -> Value
    ) throws(StoreError) -> [[Value?]] {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            let rowCount = PQntuples(result)
            let columnCount = PQnfields(result)
            var rows: [[Value?]] = []
            rows.reserveCapacity(Int(rowCount))
            for row in 0..<rowCount {
                var values: [Value?] = []
                for column in 0..<columnCount {
                    values.append(PQgetisnull(result, row, column) == 1 ? nil : value(result, row, column))
                }
                rows.append(values)
            }
            return rows
        default:
            throw StoreError(.queryFailed, Self.describe(result: result, sql: sql))
        }
    }

    func failure(_ code: StoreError.Code, _ sql: String) -> StoreError {
        let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
        return StoreError(code, "\(message) (in: \(Self.abbreviate(sql)))")
    }

    static func describe(result: OpaquePointer, sql: String) -> String {
        var message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        if let constraint = PQresultErrorField(result, Int32(UInt8(ascii: "n"))) {
            message += " [constraint \(String(cString: constraint))]"
        }
        return "\(message) (in: \(abbreviate(sql)))"
    }

    static func abbreviate(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count > 160 ? String(flat.prefix(160)) + "…" : flat
    }
}

import PostgresNIO

/// Runs `operation` (a `withTransaction` call), passing an ``APIError`` thrown inside the
/// transaction (which is rolled back) out as itself, so callers see the refusal rather than a
/// transaction failure.
func passingRefusals<Result>(_ operation: () async throws -> Result) async throws -> Result {
    do {
        return try await operation()
    } catch let error as PostgresTransactionError {
        if let refusal = error.closureError as? APIError { throw refusal }
        throw error
    }
}

/// Which day partitions of `scan_batches` to create and which to archive: a pure decision, tested
/// without I/O. Days are counted from 1970-01-01 in the database's calendar (the partitions'
/// bounds are its dates).
public struct PartitionPlan: Sendable, Hashable {
    /// Days to create (ascending).
    public var create: [Int]
    /// Days to archive and drop (ascending): older than the retention.
    public var archive: [Int]

    /// The plan for `today` given the partitions that exist: yesterday through `ahead` days after
    /// today must exist (a flush just after midnight, a clock a little behind, and a daemon up for
    /// days between two runs of the keeper all land in a partition of their own, never in the
    /// default one); with a retention of `retentionDays`, every day before `today - retentionDays`
    /// goes to the archive. `retentionDays` `nil` keeps every day.
    public init(today: Int, existing: Set<Int>, ahead: Int, retentionDays: Int?) {
        create = ((today - 1)...(today + max(0, ahead))).filter { !existing.contains($0) }
        if let retentionDays {
            let oldest = today - max(1, retentionDays)
            archive = existing.filter { $0 < oldest }.sorted()
        } else {
            archive = []
        }
    }
}

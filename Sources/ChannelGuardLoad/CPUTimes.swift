import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of the whole machine and of this process, from /proc.
struct CPUTimes: Sendable {
    var busy: Double = 0
    var total: Double = 0
    var process: Double = 0

    static func read() -> CPUTimes {
        var times = CPUTimes()
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first
        {
            let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            times.total = fields.reduce(0, +)
            times.busy = times.total - (fields.count > 4 ? fields[3] + fields[4] : 0)
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
            if fields.count > 12 { times.process = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) }
        }
        return times
    }

    /// Machine busy share (0–cores×100 %) and this process's CPU percent of one core.
    func since(_ before: CPUTimes) -> (machinePercent: Double, processSeconds: Double) {
        let total = self.total - before.total
        let busy = self.busy - before.busy
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (total > 0 ? busy / total * 100 : 0, (process - before.process) / ticks)
    }
}

import ArgumentParser
import PathTSDB
import Query

/// `--from` and `--to`, shared by the commands that read a time range.
struct TimeRangeOptions: ParsableArguments {
    @Option(name: .long, help: "Start: RFC 3339, now, or relative to the newest data (-24h).")
    var from: String = "-24h"

    @Option(name: .long, help: "End: RFC 3339, now, or relative to the newest data.")
    var to: String = "+1s"

    /// The range as a query's time clause. Relative times count back from the newest data in
    /// `snapshot`, so that imported history works the same as live data.
    func spec(in snapshot: StoreSnapshot) throws -> TimeSpec {
        let newest = snapshot.timeRange?.upperBound ?? 0
        guard let start = DurationText.parseTime(from, now: newest), let end = DurationText.parseTime(to, now: newest) else {
            throw ValidationError("--from and --to take RFC 3339 times, now, or offsets such as -24h")
        }
        guard start < end else { throw ValidationError("--from must come before --to") }
        return .between(.absolute(start), .absolute(end))
    }
}

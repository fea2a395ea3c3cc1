import ArgumentParser
import PathTSDB
import Query

/// `stserver paths`: the paths a target took, and when.
struct PathsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paths",
        abstract: "List the paths a target took in a time range: first and last seen, runs, hops.")

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Target name.")
    var target: String

    @OptionGroup var time: TimeRangeOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        let out = output.format
        try reportingErrors {
            let store = try PathStore(directory: store.data)
            let snap = store.snapshot()
            let (paths, problems) = snap.pathLifetimes(target: try snap.target(named: target), range: try time.range(in: snap))
            for p in problems { StandardError.write("stserver: warning: \(p)\n") }
            var table = ResultTable(columns: ["path", "first_seen", "last_seen", "runs", "reached_runs", "hops", "addresses"])
            for p in paths {
                let hops = snap.catalog.path(of: p.path)?.hops ?? []
                table.rows.append([
                    .integer(Int64(p.path.rawValue)), .time(p.firstSeenMicros), .time(p.lastSeenMicros), .integer(Int64(p.runs)),
                    .integer(Int64(p.reachedRuns)), .integer(Int64(hops.count)),
                    .text(hops.map { $0.isNone ? "*" : (snap.catalog.address(of: $0)?.description ?? "?") }.joined(separator: " ")),
                ])
            }
            print(out.render(table), terminator: "")
            try store.close()
        }
    }
}

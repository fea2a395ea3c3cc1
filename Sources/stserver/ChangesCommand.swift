import ArgumentParser
import PathTSDB
import Query

/// `stserver changes`: the path-change events of a time range.
struct ChangesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "List path changes: when, which target, the first hop that differs, hop counts before and after.")

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Only this target.")
    var target: String?

    @OptionGroup var time: TimeRangeOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        let out = output.format
        try reportingErrors {
            let store = try PathStore(directory: store.data)
            let snap = store.snapshot()
            let id = try target.map { try snap.target(named: $0) }
            let (events, problems) = snap.events(in: try time.range(in: snap), target: id)
            for p in problems { StandardError.write("stserver: warning: \(p)\n") }
            var table = ResultTable(columns: ["time", "target", "vantage", "first_diff_hop", "hops_before", "hops_after", "old_path", "new_path"])
            for e in events {
                table.rows.append([
                    .time(e.timeMicros), .text(snap.catalog.name(of: e.target) ?? "?"), .text(snap.catalog.name(of: e.vantage) ?? "?"),
                    .integer(Int64(e.firstDifferingTTL)), .integer(Int64(e.oldHopCount)), .integer(Int64(e.newHopCount)),
                    .text(describe(e.oldPath, snap.catalog)), .text(describe(e.newPath, snap.catalog)),
                ])
            }
            print(out.render(table), terminator: "")
            try store.close()
        }
    }

    /// A path as operators read it: hop addresses in order, `*` where nothing answered.
    private func describe(_ id: PathID, _ catalog: Catalog) -> String {
        guard let hops = catalog.path(of: id) else { return "#\(id.rawValue)" }
        return hops.hops.map { $0.isNone ? "*" : (catalog.address(of: $0)?.description ?? "?") }.joined(separator: " ")
    }
}

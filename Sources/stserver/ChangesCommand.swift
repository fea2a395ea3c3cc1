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

    @Option(name: .long, help: "Start: RFC 3339, now, or relative to the newest data (-24h).")
    var from: String = "-7d"

    @Option(name: .long, help: "End: RFC 3339, now, or relative to the newest data.")
    var to: String = "+1s"

    @Option(name: .long, help: "Output: table, csv or json.")
    var format: String = "table"

    func run() throws {
        guard let out = OutputFormat(rawValue: format) else { throw ValidationError("--format takes table, csv or json") }
        do {
            let store = try PathStore(directory: store.data)
            let snap = store.snapshot()
            var id: TargetID?
            if let target {
                guard let t = snap.catalog.targetID(named: target) else { throw StorageError(.notFound, "no target named \"\(target)\"") }
                id = t
            }
            let newest = snap.timeRange?.upperBound ?? 0
            guard let start = DurationText.parseTime(from, now: newest), let end = DurationText.parseTime(to, now: newest) else {
                throw ValidationError("--from and --to take RFC 3339 times, now, or offsets such as -24h")
            }
            let (events, problems) = snap.events(in: start..<end, target: id)
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
        } catch let e as ValidationError {
            throw e
        } catch {
            throw ExitStatus.report(error)
        }
    }

    /// A path as operators read it: hop addresses in order, `*` where nothing answered.
    private func describe(_ id: PathID, _ catalog: Catalog) -> String {
        guard let hops = catalog.path(of: id) else { return "#\(id.rawValue)" }
        return hops.hops.map { $0.isNone ? "*" : (catalog.address(of: $0)?.description ?? "?") }.joined(separator: " ")
    }
}

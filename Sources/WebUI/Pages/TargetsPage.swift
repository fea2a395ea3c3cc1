package import PathTSDB
import Query

/// The overview: every target the store holds, grouped as their names are (`core/gw` is in
/// `core`), each with its state over the last 24 hours: whether its path changed (and how
/// often), the destination's loss, the runs. Filtered by name and state, sorted by any column,
/// all by links and a form (no JavaScript).
package struct TargetsPage: Sendable {
    package enum Sort: String, CaseIterable, Sendable { case name, state, changes, loss, runs }

    package var filter: String
    package var onlyChanged: Bool
    package var sort: Sort

    package init(filter: String?, onlyChanged: Bool, sort: String?) {
        self.filter = filter ?? ""
        self.onlyChanged = onlyChanged
        self.sort = sort.flatMap(Sort.init(rawValue:)) ?? .name
    }

    struct Row {
        var name: String
        var changes: Int
        var loss: Double?
        var runs: Int
        var state: String { changes > 0 ? "changed" : runs == 0 ? "no runs" : "stable" }
    }

    package func model(snapshot: StoreSnapshot, nowMicros: Int64) throws -> [String: Any] {
        var context = QueryContext(nowMicros: nowMicros)
        context.maxRows = 1_000_000
        let names = Array(snapshot.catalog.targetNames)
        var rows = Dictionary(names.map { ($0, Row(name: $0, changes: 0, loss: nil, runs: 0)) }, uniquingKeysWith: { a, _ in a })
        if !names.isEmpty {
            let stats = try QueryEngine.table("stats loss, count of all by target last 24h", snapshot: snapshot, context: context)
            let s = Columns(stats)
            for row in stats.rows {
                let name = s.text(row, "target")
                rows[name]?.loss = s.number(row, "loss")
            }
            let paths = try QueryEngine.table("paths of all last 24h", snapshot: snapshot, context: context)
            let p = Columns(paths)
            for row in paths.rows { rows[p.text(row, "target")]?.runs += Int(p.number(row, "runs") ?? 0) }
            let changes = try QueryEngine.table("changes of all last 24h", snapshot: snapshot, context: context)
            let c = Columns(changes)
            for row in changes.rows { rows[c.text(row, "target")]?.changes += 1 }
        }
        var shown = rows.values.filter { (filter.isEmpty || $0.name.lowercased().contains(filter.lowercased())) && (!onlyChanged || $0.changes > 0) }
        shown.sort { a, b in
            switch sort {
            case .name: a.name < b.name
            case .state: (a.state, a.name) < (b.state, b.name)
            case .changes: (b.changes, a.name) < (a.changes, b.name)
            case .loss: ((b.loss ?? -1), a.name) < ((a.loss ?? -1), b.name)
            case .runs: (b.runs, a.name) < (a.runs, b.name)
            }
        }
        // Groups in the order their first target comes in the sort.
        var order = [String](), byGroup = [String: [[String: Any]]]()
        for r in shown {
            let group = r.name.split(separator: "/").dropLast().joined(separator: "/")
            if byGroup[group] == nil { order.append(group) }
            byGroup[group, default: []].append([
                "name": r.name, "href": "/targets/" + PagePath.escape(r.name), "state": r.state, "changes": r.changes,
                "loss": r.loss.map { ChartNumber.format($0) } ?? "–", "runs": r.runs,
            ])
        }
        let query = (filter.isEmpty ? "" : "&filter=" + PagePath.escapeComponent(filter)) + (onlyChanged ? "&changed=1" : "")
        let labels: [Sort: String] = [.name: "target", .state: "state", .changes: "path changes", .loss: "loss %", .runs: "runs"]
        return [
            "title": "Targets", "filter": filter, "onlyChanged": onlyChanged,
            "empty": shown.isEmpty,
            "emptyText": names.isEmpty ? "The store holds no runs yet." : "No target matches.",
            "columns": Sort.allCases.map { s -> [String: Any] in
                ["label": labels[s] ?? s.rawValue, "href": "/targets?sort=\(s.rawValue)" + query, "sorted": s == sort]
            },
            "groups": order.map { ["group": $0.isEmpty ? "(no group)" : $0, "targets": byGroup[$0] ?? []] as [String: Any] },
        ]
    }
}

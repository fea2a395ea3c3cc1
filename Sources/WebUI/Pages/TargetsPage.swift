package import PathTSDB
import Query

/// The overview: every target the store holds, grouped as their names are (`core/gw` is in
/// `core`), each with its state over the last 24 hours: whether its path changed (and how
/// often), the destination's loss, the runs. Filtered by name and state, sorted by any column,
/// all by links and a form (no JavaScript).
package struct TargetsPage: Sendable {
    /// When the page's queries give up (`QueryError` `.timeout`), as the API's do; none: never.
    package var deadline: ContinuousClock.Instant?
    package enum Sort: String, CaseIterable, Sendable { case name, state, changes, loss, runs }

    package var filter: String
    package var onlyChanged: Bool
    package var sort: Sort

    package init(filter: String?, onlyChanged: Bool, sort: String?) {
        self.filter = filter ?? ""
        self.onlyChanged = onlyChanged
        self.sort = sort.flatMap(Sort.init(rawValue:)) ?? .name
    }

    /// One target's line.
    package struct Row: Encodable, Sendable, Equatable {
        package var name: String
        /// The group it is listed under: its name up to the last `/`; empty for none.
        package var group: String
        /// Path changes in the last 24 hours.
        package var changes: Int
        /// The destination's loss in the last 24 hours, in percent; nil without runs.
        package var loss: Double?
        /// Runs in the last 24 hours.
        package var runs: Int
        /// `changed`, `stable` or `no runs`.
        package var state: String { changes > 0 ? "changed" : runs == 0 ? "no runs" : "stable" }

        enum CodingKeys: String, CodingKey { case name, group, changes, loss, runs, state }
        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(group, forKey: .group)
            try c.encode(changes, forKey: .changes)
            try c.encode(loss, forKey: .loss)
            try c.encode(runs, forKey: .runs)
            try c.encode(state, forKey: .state)
        }
    }

    /// What the page shows, as data (its JSON form).
    package struct Data: Encodable, Sendable {
        package var filter: String
        package var changedOnly: Bool
        package var sort: String
        /// The targets shown, in the page's order.
        package var targets: [Row]
    }

    /// The rows, filtered and sorted as asked, read from `snapshot`.
    package func data(snapshot: StoreSnapshot, nowMicros: Int64) throws -> Data {
        var context = QueryContext(nowMicros: nowMicros)
        context.deadline = deadline
        context.maxRows = 1_000_000
        let names = Array(snapshot.catalog.targetNames)
        var rows = Dictionary(names.map { name in
            (name, Row(name: name, group: name.split(separator: "/").dropLast().joined(separator: "/"), changes: 0, loss: nil, runs: 0))
        }, uniquingKeysWith: { a, _ in a })
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
        return Data(filter: filter, changedOnly: onlyChanged, sort: sort.rawValue, targets: shown)
    }

    package func model(snapshot: StoreSnapshot, nowMicros: Int64) throws -> [String: Any] {
        let data = try data(snapshot: snapshot, nowMicros: nowMicros)
        let shown = data.targets
        let storeEmpty = snapshot.catalog.targetNames.isEmpty
        // Groups in the order their first target comes in the sort.
        var order = [String](), byGroup = [String: [[String: Any]]]()
        for r in shown {
            let group = r.group
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
            "jsonHref": "/targets?format=json&sort=\(sort.rawValue)" + query,
            "empty": shown.isEmpty,
            "emptyText": storeEmpty ? "The store holds no runs yet." : "No target matches.",
            "columns": Sort.allCases.map { s -> [String: Any] in
                ["label": labels[s] ?? s.rawValue, "href": "/targets?sort=\(s.rawValue)" + query, "sorted": s == sort]
            },
            "groups": order.map { ["group": $0.isEmpty ? "(no group)" : $0, "targets": byGroup[$0] ?? []] as [String: Any] },
        ]
    }
}

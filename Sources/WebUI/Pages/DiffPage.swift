package import PathTSDB
import Query

/// Two paths of a target side by side, TTL by TTL: every address that answered at each TTL
/// (several on a load-balanced hop), the TTLs that differ highlighted and named, and each hop's
/// loss and median on the runs of either path over the range.
package struct DiffPage: Sendable {
    package var target: String
    package var old: PathID
    package var new: PathID
    package var range: PageRange

    package init(target: String, old: PathID, new: PathID, range: PageRange) {
        self.target = target
        self.old = old
        self.new = new
        self.range = range
    }

    package func model(snapshot: StoreSnapshot, nowMicros: Int64) throws -> [String: Any] {
        let catalog = snapshot.catalog
        guard let oldHops = catalog.path(of: old) else { throw WebUIError("no path with id \(old.rawValue)") }
        guard let newHops = catalog.path(of: new) else { throw WebUIError("no path with id \(new.rawValue)") }
        var context = QueryContext(nowMicros: nowMicros)
        context.maxRows = 10_000
        let span = try PageQuery.selection(target: target, fromMicros: range.fromMicros, toMicros: range.toMicros)
        // Each path's hops, from the runs on it (a load-balanced route's runs are those of any
        // path within it: the language's `path` clause says which).
        func stats(_ id: PathID) throws -> (rows: [Int: [ResultValue]], columns: Columns, runs: Int) {
            let t = try QueryEngine.table("stats count, loss, p50 \(span) path \(id.rawValue) by ttl", snapshot: snapshot, context: context)
            let c = Columns(t)
            let runs = try QueryEngine.table("paths \(span) path \(id.rawValue)", snapshot: snapshot, context: context)
            let r = Columns(runs)
            return (Dictionary(t.rows.compactMap { row in c.number(row, "ttl").map { (Int($0), row) } }, uniquingKeysWith: { a, _ in a }), c,
                    runs.rows.reduce(0) { $0 + Int(r.number($1, "runs") ?? 0) })
        }
        let before = try stats(old), after = try stats(new)
        func addresses(_ p: PathHops, _ ttl: Int) -> String {
            let a = p.addresses(atTTL: ttl).compactMap { catalog.address(of: $0)?.description }
            return a.isEmpty ? "*" : a.sorted().joined(separator: " | ")
        }
        let rows: [[String: Any]] = (1...max(oldHops.hopCount, newHops.hopCount, 1)).map { ttl in
            let a = Set(oldHops.addresses(atTTL: ttl)), b = Set(newHops.addresses(atTTL: ttl))
            let change = a.isEmpty && b.isEmpty ? "silent" : a.isEmpty ? "added" : b.isEmpty ? "removed" : a == b ? "same" : "changed"
            func cell(_ s: (rows: [Int: [ResultValue]], columns: Columns, runs: Int), _ name: String) -> String {
                s.rows[ttl].map { s.columns.text($0, name) } ?? "–"
            }
            return ["ttl": ttl, "old": addresses(oldHops, ttl), "new": addresses(newHops, ttl), "change": change,
                    "oldLoss": cell(before, "loss"), "newLoss": cell(after, "loss"),
                    "oldMedian": cell(before, "p50"), "newMedian": cell(after, "p50")]
        }
        return [
            "title": "\(target): path \(old.rawValue) → \(new.rawValue)", "target": target,
            "targetHref": "/targets/" + PagePath.escape(target), "old": old.rawValue, "new": new.rawValue,
            "from": RFC3339.format(micros: range.fromMicros), "to": RFC3339.format(micros: range.toMicros),
            "oldRuns": before.runs, "newRuns": after.runs, "rows": rows,
        ]
    }
}

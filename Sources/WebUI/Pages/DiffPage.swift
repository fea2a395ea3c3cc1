package import PathTSDB
import Query

/// Two paths of a target side by side, TTL by TTL: every address that answered at each TTL
/// (several on a load-balanced hop), the TTLs that differ highlighted and named, and each hop's
/// loss and median on the runs of either path over the range.
package struct DiffPage: Sendable {
    /// When the page's queries give up (`QueryError` `.timeout`), as the API's do; none: never.
    package var deadline: ContinuousClock.Instant?
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

    /// One TTL of the two paths.
    package struct Hop: Encodable, Sendable {
        package var ttl: Int
        /// Every address that answered at the TTL on each path, sorted; empty when silent.
        package var old: [String]
        package var new: [String]
        /// `same`, `changed`, `added`, `removed` or `silent`.
        package var change: String
        /// Percent and milliseconds over each path's runs in the range; nil without any.
        package var oldLoss: Double?
        package var newLoss: Double?
        package var oldMedian: Double?
        package var newMedian: Double?
    }

    /// What the page shows, as data (its JSON form).
    package struct Data: Encodable, Sendable {
        package var target: String
        package var old: UInt32
        package var new: UInt32
        package var from: String
        package var to: String
        /// Runs on each path in the range.
        package var oldRuns: Int
        package var newRuns: Int
        package var hops: [Hop]
    }

    /// The page's values as data, read from `snapshot`.
    /// - Throws: `WebUIError` when either path id is not in the catalog.
    package func data(snapshot: StoreSnapshot, nowMicros: Int64) throws -> Data {
        let catalog = snapshot.catalog
        guard let oldHops = catalog.path(of: old) else { throw WebUIError("no path with id \(old.rawValue)") }
        guard let newHops = catalog.path(of: new) else { throw WebUIError("no path with id \(new.rawValue)") }
        var context = QueryContext(nowMicros: nowMicros)
        context.deadline = deadline
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
        func addresses(_ p: PathHops, _ ttl: Int) -> [String] {
            p.addresses(atTTL: ttl).compactMap { catalog.address(of: $0)?.description }.sorted()
        }
        let hops = (1...max(oldHops.hopCount, newHops.hopCount, 1)).map { ttl in
            let a = Set(oldHops.addresses(atTTL: ttl)), b = Set(newHops.addresses(atTTL: ttl))
            let change = a.isEmpty && b.isEmpty ? "silent" : a.isEmpty ? "added" : b.isEmpty ? "removed" : a == b ? "same" : "changed"
            func figure(_ s: (rows: [Int: [ResultValue]], columns: Columns, runs: Int), _ name: String) -> Double? {
                s.rows[ttl].flatMap { s.columns.number($0, name) }
            }
            return Hop(ttl: ttl, old: addresses(oldHops, ttl), new: addresses(newHops, ttl), change: change,
                       oldLoss: figure(before, "loss"), newLoss: figure(after, "loss"),
                       oldMedian: figure(before, "p50"), newMedian: figure(after, "p50"))
        }
        return Data(target: target, old: old.rawValue, new: new.rawValue,
                    from: RFC3339.format(micros: range.fromMicros), to: RFC3339.format(micros: range.toMicros),
                    oldRuns: before.runs, newRuns: after.runs, hops: hops)
    }

    package func model(snapshot: StoreSnapshot, nowMicros: Int64) throws -> [String: Any] {
        let data = try data(snapshot: snapshot, nowMicros: nowMicros)
        func text(_ v: Double?) -> String { v.map { ChartNumber.format($0) } ?? "–" }
        let rows: [[String: Any]] = data.hops.map { h in
            ["ttl": h.ttl, "old": h.old.isEmpty ? "*" : h.old.joined(separator: " | "), "new": h.new.isEmpty ? "*" : h.new.joined(separator: " | "),
             "change": h.change, "oldLoss": text(h.oldLoss), "newLoss": text(h.newLoss),
             "oldMedian": text(h.oldMedian), "newMedian": text(h.newMedian)]
        }
        return [
            "title": "\(target): path \(old.rawValue) → \(new.rawValue)", "target": target,
            "targetHref": "/targets/" + PagePath.escape(target), "old": old.rawValue, "new": new.rawValue,
            "jsonHref": "/diff?format=json&target=\(PagePath.escapeComponent(target))&old=\(old.rawValue)&new=\(new.rawValue)"
                + (range.preset.map { "&range=" + $0 } ?? "&from=\(PagePath.escapeComponent(data.from))&to=\(PagePath.escapeComponent(data.to))"),
            "from": data.from, "to": data.to, "oldRuns": data.oldRuns, "newRuns": data.newRuns, "rows": rows,
        ]
    }
}

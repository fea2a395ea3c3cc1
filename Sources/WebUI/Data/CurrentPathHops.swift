import PathTSDB
package import Query

/// The hops table of a long range, read from rollups: each TTL's figures over whole hours (the
/// rollups answer those exactly and fast; grouping by address would read every probe), with the
/// addresses of the path in use at the range's end. Jitter, which rollups do not hold, is
/// left empty.
enum CurrentPathHops {
    static let hour: Int64 = 3_600_000_000

    /// The table: `ttl`, `address` (the current path's; branches joined by ` | `), `count`,
    /// `loss`, `p50`, `p95`, `jitter` (null), `silent`, one row per TTL.
    static func table(target: String, fromMicros: Int64, toMicros: Int64, snapshot: StoreSnapshot, context: QueryContext) throws -> ResultTable {
        let from = TimeArithmetic.floorDivide(fromMicros, by: hour) * hour
        let to = (TimeArithmetic.floorDivide(toMicros - 1, by: hour) + 1) * hour
        let span = try PageQuery.selection(target: target, fromMicros: from, toMicros: to)
        let stats = try QueryEngine.table("stats count, loss, p50, p95, silent \(span) by ttl", snapshot: snapshot, context: context)
        let addresses = try currentPath(target: target, fromMicros: fromMicros, toMicros: toMicros, snapshot: snapshot, context: context)
        let s = Columns(stats)
        let rows: [[ResultValue]] = stats.rows.compactMap { row in
            guard let ttl = s.number(row, "ttl").map(Int.init) else { return nil }
            let silent = s.number(row, "silent") == 1
            let address = silent ? nil : addresses[ttl].map { $0.joined(separator: " | ") }
            return [.integer(Int64(ttl)), address.map { .text($0) } ?? .null, s.value(row, "count"), s.value(row, "loss"),
                    s.value(row, "p50"), s.value(row, "p95"), .null, s.value(row, "silent")]
        }
        return ResultTable(columns: ["ttl", "address", "count", "loss", "p50", "p95", "jitter", "silent"], rows: rows)
    }

    /// The addresses by TTL of the newest route in the range: looked for in its last hour, then
    /// its last day, then all of it (the newest runs decide; the reading stays short when the
    /// target is traced to the end of the range).
    static func currentPath(target: String, fromMicros: Int64, toMicros: Int64, snapshot: StoreSnapshot, context: QueryContext) throws -> [Int: [String]] {
        for back in [hour, 24 * hour, toMicros - fromMicros] {
            let start = max(fromMicros, toMicros - back)
            let paths = try QueryEngine.table("paths \(try PageQuery.selection(target: target, fromMicros: start, toMicros: toMicros))",
                                              snapshot: snapshot, context: context)
            let p = Columns(paths)
            guard let newest = paths.rows.max(by: { (p.time($0, "last_seen") ?? 0) < (p.time($1, "last_seen") ?? 0) }) else { continue }
            // `hops`: one word per TTL from 1, `*` where nothing answered, branches joined by `|`.
            var out = [Int: [String]]()
            for (i, word) in p.text(newest, "hops").split(separator: " ").enumerated() where word != "*" {
                out[i + 1] = word.split(separator: "|").map(String.init)
            }
            return out
        }
        return [:]
    }
}

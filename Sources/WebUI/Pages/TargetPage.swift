package import PathTSDB
import Query

/// A target's page: which path it used when (a timeline), its hops over the range (address,
/// loss, median, p95, jitter; silent hops as silent), a smoke graph per hop with the path
/// changes marked, and the changes listed.
package struct TargetPage: Sendable {
    package var target: String
    package var range: PageRange
    /// Pixel width of each graph.
    package var chartWidth = 720

    package init(target: String, range: PageRange) {
        self.target = target
        self.range = range
    }

    /// The page's values, read from `snapshot`.
    package func model(snapshot: StoreSnapshot, nowMicros: Int64) throws -> [String: Any] {
        var context = QueryContext(nowMicros: nowMicros)
        context.maxRows = 100_000
        let span = try PageQuery.selection(target: target, fromMicros: range.fromMicros, toMicros: range.toMicros)

        let hops = try QueryEngine.table("stats count, loss, p50, p95, jitter, silent \(span) by ttl, address", snapshot: snapshot, context: context)
        let changes = try QueryEngine.table("changes \(span)", snapshot: snapshot, context: context)
        let series = try SmokeSeriesQuery(target: target, fromMicros: range.fromMicros, toMicros: range.toMicros,
                                          columns: chartWidth - 64).run(snapshot: snapshot, context: context)

        let h = Columns(hops), c = Columns(changes)
        let hopRows: [[String: Any]] = hops.rows.map { row in
            [
                "ttl": h.text(row, "ttl"), "address": h.text(row, "address"), "silent": h.number(row, "silent") == 1,
                "count": h.text(row, "count"), "loss": h.text(row, "loss"), "median": h.text(row, "p50"),
                "p95": h.text(row, "p95"), "jitter": h.text(row, "jitter"),
            ]
        }
        var marks = [ChartMark]()
        let changeRows: [[String: Any]] = changes.rows.map { row in
            let time = c.time(row, "time") ?? 0
            let ttl = c.text(row, "diff_ttl")
            let old = c.text(row, "old_path"), new = c.text(row, "new_path")
            let link = "/diff?target=\(PagePath.escapeComponent(target))&old=\(old)&new=\(new)"
            marks.append(ChartMark(timeMicros: time, kind: .pathChange(link: link),
                                   note: "path change at \(RFC3339.format(micros: time)), first at TTL \(ttl)"))
            return ["time": RFC3339.format(micros: time), "ttl": ttl, "old": old, "new": new, "href": link]
        }
        // Which path when: the stretches the changes cut the range into; with no change, the
        // path of the newest run in the range.
        let changeList = changes.rows.compactMap { row -> (time: Int64, old: UInt32, new: UInt32)? in
            guard let t = c.time(row, "time"), let o = c.number(row, "old_path"), let n = c.number(row, "new_path") else { return nil }
            return (t, UInt32(o), UInt32(n))
        }
        var current: UInt32?
        if changeList.isEmpty {
            let paths = try QueryEngine.table("paths \(span)", snapshot: snapshot, context: context)
            let p = Columns(paths)
            current = paths.rows.max { (p.time($0, "last_seen") ?? 0) < (p.time($1, "last_seen") ?? 0) }
                .flatMap { p.number($0, "path") }.map { UInt32($0) }
        }
        var timeline = PathTimeline(title: "\(target) — path in use", fromMicros: range.fromMicros, toMicros: range.toMicros,
                                    stretches: PathTimeline.stretches(from: range.fromMicros, to: range.toMicros, changes: changeList, current: current),
                                    marks: marks)
        timeline.width = chartWidth
        let charts: [[String: Any]] = series.keys.sorted().map { ttl in
            var chart = SmokeChart(title: "\(target) — TTL \(ttl)", fromMicros: range.fromMicros, toMicros: range.toMicros,
                                   buckets: series[ttl] ?? [])
            chart.width = chartWidth
            chart.marks = marks
            return ["ttl": ttl, "svg": chart.svg()]
        }
        let base = "/targets/" + PagePath.escape(target)
        return [
            "title": target, "target": target,
            "from": RFC3339.format(micros: range.fromMicros), "to": RFC3339.format(micros: range.toMicros),
            "ranges": PageRange.presets.map { p -> [String: Any] in
                ["label": p.label, "href": base + "?range=" + p.name, "current": p.name == range.preset]
            },
            "empty": hops.rows.isEmpty,
            "hops": hopRows, "charts": charts, "timeline": timeline.svg(), "changes": changeRows, "hasChanges": !changeRows.isEmpty,
            "changesLine": changeRows.isEmpty ? "" : "\(changeRows.count) path change\(changeRows.count == 1 ? "" : "s")",
            "legend": LossScale.legend.map { ["color": $0.color, "name": $0.name] },
        ]
    }
}

/// A result's cells by column name, as a page shows them.
struct Columns {
    let index: [String: Int]

    init(_ table: ResultTable) {
        index = Dictionary(table.columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func value(_ row: [ResultValue], _ name: String) -> ResultValue { index[name].map { row[$0] } ?? .null }

    func number(_ row: [ResultValue], _ name: String) -> Double? {
        switch value(row, name) {
        case .number(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }

    func time(_ row: [ResultValue], _ name: String) -> Int64? {
        if case .time(let t) = value(row, name) { return t }
        return nil
    }

    /// The cell as text: numbers with at most three significant digits, null as an en dash.
    func text(_ row: [ResultValue], _ name: String) -> String {
        switch value(row, name) {
        case .null: "–"
        case .integer(let v): String(v)
        case .number(let v): ChartNumber.format(v)
        case .text(let s): s
        case .time(let t): RFC3339.format(micros: t)
        }
    }
}

/// Paths of the web pages.
package enum PagePath {
    /// A target name as a path under `/targets/`: its `/` kept (groups read as folders), every
    /// byte outside unreserved characters percent-encoded.
    package static func escape(_ name: String) -> String { percentEncoded(name, keeping: UInt8(ascii: "/")) }

    /// A value for a query string: `/` encoded too.
    package static func escapeComponent(_ value: String) -> String { percentEncoded(value, keeping: nil) }

    private static func percentEncoded(_ name: String, keeping extra: UInt8?) -> String {
        var out = ""
        for b in name.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), extra:
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}

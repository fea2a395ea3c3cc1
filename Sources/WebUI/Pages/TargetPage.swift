package import PathTSDB
import Query

/// A target's page: which path it used when (a timeline), its hops over the range (address,
/// loss, median, p95, jitter; silent hops as silent), hop × time heatmaps of latency and loss,
/// a smoke graph per hop with the path changes marked, and the changes listed.
package struct TargetPage: Sendable {
    /// When the page's queries give up (`QueryError` `.timeout`), as the API's do; none: never.
    package var deadline: ContinuousClock.Instant?
    package var target: String
    package var range: PageRange
    /// Pixel width of each graph.
    package var chartWidth = 720
    /// Ranges at least this long show each TTL's figures from rollups, with the current path's
    /// addresses, rather than each address's from raw data.
    static let rollupRangeMicros: Int64 = 2 * 86_400_000_000
    var usesRollups: Bool { range.toMicros - range.fromMicros >= TargetPage.rollupRangeMicros }

    /// The names of hop addresses known now (reverse DNS); asked once per page, never waited on.
    package var names: (@Sendable ([IPAddress]) -> [IPAddress: String])?

    package init(target: String, range: PageRange) {
        self.target = target
        self.range = range
    }

    /// One hop of the hops table: a TTL and an address that answered there (a silent TTL has
    /// no address).
    package struct Hop: Encodable, Sendable {
        package var ttl: Int
        package var address: String?
        /// The address's reverse DNS name, when known.
        package var name: String?
        package var silent: Bool
        package var probes: Int
        /// Percent; nil for a silent hop (it has no loss of its own).
        package var loss: Double?
        /// Milliseconds.
        package var median: Double?
        package var p95: Double?
        package var jitter: Double?
    }

    /// One path change, linked to its diff.
    package struct Change: Encodable, Sendable {
        package var time: String
        /// The first TTL where the paths differ.
        package var ttl: Int?
        package var oldPath: UInt32
        package var newPath: UInt32
        package var diff: String
    }

    /// A stretch of the timeline: one path in use from `from` to `to`.
    package struct Stretch: Encodable, Sendable {
        package var from: String
        package var to: String
        package var path: UInt32
    }

    /// One smoke graph's values: a hop's buckets (the destination's at its TTL).
    package struct Smoke: Encodable, Sendable {
        package struct Bucket: Encodable, Sendable {
            package var start: String
            package var sent: Int
            package var lost: Int
            package var median: Double?
            /// Deciles from the lowest to the highest RTT (ms), the smoke; empty when nothing
            /// answered.
            package var deciles: [Double]
        }
        package var ttl: Int
        package var stepSeconds: Int64
        package var buckets: [Bucket]
    }

    /// What the page shows, as data (its JSON form).
    package struct Data: Encodable, Sendable {
        package var target: String
        package var from: String
        package var to: String
        package var hops: [Hop]
        package var changes: [Change]
        package var timeline: [Stretch]
        package var smoke: [Smoke]
    }

    /// What the page is made of, read from `snapshot`.
    struct Parts {
        var hops: ResultTable
        var changes: ResultTable
        var series: [Int: [SmokeBucket]]
        var stepSeconds: Int64
        var stretches: [PathTimeline.Stretch]
        /// Reverse DNS names by address text.
        var names: [String: String]
    }

    func parts(snapshot: StoreSnapshot, nowMicros: Int64) throws -> Parts {
        var context = QueryContext(nowMicros: nowMicros)
        context.deadline = deadline
        context.maxRows = 100_000
        let span = try PageQuery.selection(target: target, fromMicros: range.fromMicros, toMicros: range.toMicros)
        // Two days and more: per TTL from hourly rollups, the current path's addresses (reading
        // every probe to group by address is what made a month's page slow).
        let hops = usesRollups
            ? try CurrentPathHops.table(target: target, fromMicros: range.fromMicros, toMicros: range.toMicros, snapshot: snapshot, context: context)
            : try QueryEngine.table("stats count, loss, p50, p95, jitter, silent \(span) by ttl, address", snapshot: snapshot, context: context)
        let changes = try QueryEngine.table("changes \(span)", snapshot: snapshot, context: context)
        let smoke = SmokeSeriesQuery(target: target, fromMicros: range.fromMicros, toMicros: range.toMicros, columns: chartWidth - 64)
        let series = try smoke.run(snapshot: snapshot, context: context)
        // Which path when: the stretches the changes cut the range into; with no change, the
        // path of the newest run in the range.
        let c = Columns(changes)
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
        let stretches = PathTimeline.stretches(from: range.fromMicros, to: range.toMicros, changes: changeList, current: current)
        var names = [String: String]()
        if let lookUp = self.names {
            let h = Columns(hops)
            let addresses = hops.rows.compactMap { row -> IPAddress? in
                guard case .text(let a) = h.value(row, "address") else { return nil }
                return IPAddress(a)
            }
            for (address, name) in lookUp(addresses) { names[address.description] = name }
        }
        return Parts(hops: hops, changes: changes, series: series, stepSeconds: smoke.stepSeconds, stretches: stretches, names: names)
    }

    private func diffLink(old: String, new: String) -> String {
        "/diff?target=\(PagePath.escapeComponent(target))&old=\(old)&new=\(new)"
    }

    /// The page's values as data, read from `snapshot`.
    package func data(snapshot: StoreSnapshot, nowMicros: Int64) throws -> Data {
        let parts = try parts(snapshot: snapshot, nowMicros: nowMicros)
        let h = Columns(parts.hops), c = Columns(parts.changes)
        return Data(
            target: target, from: RFC3339.format(micros: range.fromMicros), to: RFC3339.format(micros: range.toMicros),
            hops: parts.hops.rows.map { row in
                let silent = h.number(row, "silent") == 1
                let address = silent ? nil : h.value(row, "address").text
                return Hop(ttl: Int(h.number(row, "ttl") ?? 0), address: address, name: address.flatMap { parts.names[$0] },
                           silent: silent, probes: Int(h.number(row, "count") ?? 0), loss: h.number(row, "loss"),
                           median: h.number(row, "p50"), p95: h.number(row, "p95"), jitter: h.number(row, "jitter"))
            },
            changes: parts.changes.rows.map { row in
                let old = c.text(row, "old_path"), new = c.text(row, "new_path")
                return Change(time: RFC3339.format(micros: c.time(row, "time") ?? 0), ttl: c.number(row, "diff_ttl").map(Int.init),
                              oldPath: UInt32(c.number(row, "old_path") ?? 0), newPath: UInt32(c.number(row, "new_path") ?? 0),
                              diff: diffLink(old: old, new: new))
            },
            timeline: parts.stretches.map { Stretch(from: RFC3339.format(micros: $0.fromMicros), to: RFC3339.format(micros: $0.toMicros), path: $0.path) },
            smoke: parts.series.keys.sorted().map { ttl in
                Smoke(ttl: ttl, stepSeconds: parts.stepSeconds, buckets: (parts.series[ttl] ?? []).map {
                    .init(start: RFC3339.format(micros: $0.startMicros), sent: $0.sent, lost: $0.lost, median: $0.medianMillis, deciles: $0.quantilesMillis)
                })
            })
    }

    /// The page's values for its template, read from `snapshot`.
    package func model(snapshot: StoreSnapshot, nowMicros: Int64) throws -> [String: Any] {
        let parts = try parts(snapshot: snapshot, nowMicros: nowMicros)
        let hops = parts.hops, changes = parts.changes, series = parts.series
        let h = Columns(hops), c = Columns(changes)
        let hopRows: [[String: Any]] = hops.rows.map { row in
            [
                "ttl": h.text(row, "ttl"), "address": h.text(row, "address"), "silent": h.number(row, "silent") == 1,
                "name": parts.names[h.text(row, "address")] ?? "",
                "count": h.text(row, "count"), "loss": h.text(row, "loss"), "median": h.text(row, "p50"),
                "p95": h.text(row, "p95"), "jitter": h.text(row, "jitter"),
            ]
        }
        var marks = [ChartMark]()
        let changeRows: [[String: Any]] = changes.rows.map { row in
            let time = c.time(row, "time") ?? 0
            let ttl = c.text(row, "diff_ttl")
            let old = c.text(row, "old_path"), new = c.text(row, "new_path")
            let link = diffLink(old: old, new: new)
            marks.append(ChartMark(timeMicros: time, kind: .pathChange(link: link),
                                   note: "path change at \(RFC3339.format(micros: time)), first at TTL \(ttl)"))
            return ["time": RFC3339.format(micros: time), "ttl": ttl, "old": old, "new": new, "href": link]
        }
        var timeline = PathTimeline(title: "\(target) — path in use", fromMicros: range.fromMicros, toMicros: range.toMicros,
                                    stretches: parts.stretches, marks: marks)
        timeline.width = chartWidth
        // Each interval between two ticks of the timeline is a link to that interval: zooming by
        // selecting on the graph, without JavaScript.
        timeline.zoomLink = { from, to in
            "/targets/" + PagePath.escape(target) + "?" + PageRange(fromMicros: from, toMicros: to, preset: nil).query
        }
        let charts: [[String: Any]] = series.keys.sorted().map { ttl in
            var chart = SmokeChart(title: "\(target) — TTL \(ttl)", fromMicros: range.fromMicros, toMicros: range.toMicros,
                                   buckets: series[ttl] ?? [])
            chart.width = chartWidth
            chart.marks = marks
            return ["ttl": ttl, "svg": chart.svg()]
        }
        let heatmaps = [(HopHeatmap.Measure.latency, "median RTT per hop"), (.loss, "loss per hop")].map { measure, what -> String in
            var map = HopHeatmap(title: "\(target) — \(what)", measure: measure, fromMicros: range.fromMicros, toMicros: range.toMicros, series: series)
            map.width = chartWidth
            map.marks = marks
            return map.svg()
        }
        let base = "/targets/" + PagePath.escape(target)
        let rangeQuery = range.query
        let moves = range.neighbours
        // A range shorter than a minute holds at most one run: no zooming in past it.
        let canZoomIn = range.toMicros - range.fromMicros >= 2 * 60_000_000
        return [
            "title": target, "target": target,
            "from": RFC3339.format(micros: range.fromMicros), "to": RFC3339.format(micros: range.toMicros),
            "ranges": PageRange.presets.map { p -> [String: Any] in
                ["label": p.label, "href": base + "?range=" + p.name, "current": p.name == range.preset]
            },
            "jsonHref": base + "?format=json&" + rangeQuery,
            "fromRollups": usesRollups,
            "moves": ([("← earlier", moves.earlier), ("zoom out", moves.zoomOut)] + (canZoomIn ? [("zoom in", moves.zoomIn)] : []) + [("later →", moves.later)])
                .map { label, r -> [String: Any] in ["label": label, "href": base + "?" + r.query] },
            "empty": hops.rows.isEmpty,
            "hops": hopRows, "charts": charts, "latencyHeatmap": heatmaps[0], "lossHeatmap": heatmaps[1], "timeline": timeline.svg(), "changes": changeRows, "hasChanges": !changeRows.isEmpty,
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

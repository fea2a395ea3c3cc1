import Foundation
package import PathTSDB
package import Query

/// A report of a group (or of every target) over a day, week or month against the period
/// before it: each target's path changes, its destination's loss and median RTT before and now,
/// the hops that got worse (median up by 5 ms and 20 %, or loss up by 5 points, at the same
/// TTL), and its missed slots; ranked by any of these. Printable, and the same rows as CSV.
package struct ReportPage: Sendable {
    /// When the page's queries give up (`QueryError` `.timeout`), as the API's do; none: never.
    package var deadline: ContinuousClock.Instant?
    package enum Period: String, CaseIterable, Sendable {
        case day, week, month
        var micros: Int64 {
            switch self {
            case .day: 86_400_000_000
            case .week: 7 * 86_400_000_000
            case .month: 30 * 86_400_000_000
            }
        }
    }

    package enum Rank: String, CaseIterable, Sendable {
        case changes, loss, rtt, hops, missed, name
    }

    package var group: String?
    package var period: Period
    package var rank: Rank
    /// The end of the period (exclusive); the period before ends where this one starts.
    package var endMicros: Int64

    /// - Throws: `WebUIError` naming a parameter not understood.
    package init(group: String?, period: String?, rank: String?, endMicros: Int64) throws(WebUIError) {
        guard let p = Period(rawValue: period ?? "day") else { throw WebUIError("period: expected day, week or month") }
        guard let r = Rank(rawValue: rank ?? "changes") else {
            throw WebUIError("rank: expected one of \(Rank.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let group, group.isEmpty || group.contains("\"") || group.contains("\\") || group.contains(where: \.isWhitespace) {
            throw WebUIError("group: expected a group name (no spaces or quotes)")
        }
        self.group = group
        self.period = p
        self.rank = r
        self.endMicros = endMicros
    }

    /// A hop that got worse: its TTL and address, and its median and loss before and now.
    package struct WorseHop: Encodable, Sendable, Equatable {
        package var ttl: Int
        package var address: String
        package var medianBefore: Double?
        package var medianNow: Double?
        package var lossBefore: Double?
        package var lossNow: Double?
    }

    package struct Row: Encodable, Sendable {
        package var target: String
        package var changes: Int
        package var lossBefore: Double?
        package var lossNow: Double?
        package var medianBefore: Double?
        package var medianNow: Double?
        package var worseHops: [WorseHop]
        package var missed: Int

        var lossIncrease: Double { (lossNow ?? 0) - (lossBefore ?? 0) }
        var rttIncrease: Double { (medianNow ?? 0) - (medianBefore ?? medianNow ?? 0) }
    }

    package struct Data: Encodable, Sendable {
        package var group: String?
        package var period: String
        package var from: String
        package var to: String
        package var previousFrom: String
        package var rank: String
        package var targets: [Row]
    }

    var fromMicros: Int64 { endMicros - period.micros }
    var previousFromMicros: Int64 { endMicros - 2 * period.micros }

    private var selector: String { group.map { "group \($0)" } ?? "all" }

    private func span(_ from: Int64, _ to: Int64) -> String {
        "of \(selector) from \(RFC3339.format(micros: from)) to \(RFC3339.format(micros: to))"
    }

    /// Each target's hops: (target, ttl) → (address, median, loss). `addresses` also reads
    /// every address that answered at each TTL (all probes grouped by address: only for the
    /// period the report names them for); without it the address is empty.
    private func hops(_ from: Int64, _ to: Int64, addresses: Bool, snapshot: StoreSnapshot, context: QueryContext)
        throws -> [String: [Int: (address: String, median: Double?, loss: Double?)]] {
        let t = try QueryEngine.table("stats p50, loss \(span(from, to)) by target, ttl", snapshot: snapshot, context: context)
        let c = Columns(t)
        var out = [String: [Int: (address: String, median: Double?, loss: Double?)]]()
        for row in t.rows {
            guard let ttl = c.number(row, "ttl").map(Int.init) else { continue }
            out[c.text(row, "target"), default: [:]][ttl] = ("", c.number(row, "p50"), c.number(row, "loss"))
        }
        guard addresses else { return out }
        // Every address that answered at the TTL, joined, for the rows that name it.
        let paths = try QueryEngine.table("stats count \(span(from, to)) by target, ttl, address", snapshot: snapshot, context: context)
        let p = Columns(paths)
        for row in paths.rows {
            guard let ttl = p.number(row, "ttl").map(Int.init), case .text(let address) = p.value(row, "address") else { continue }
            let target = p.text(row, "target")
            if let h = out[target]?[ttl], h.address.isEmpty { out[target]?[ttl]?.address = address } else if out[target]?[ttl] != nil {
                out[target]?[ttl]?.address += " | " + address
            }
        }
        return out
    }

    /// The report's rows, ranked, read from `snapshot`.
    package func data(snapshot: StoreSnapshot, nowMicros: Int64) throws -> Data {
        var context = QueryContext(nowMicros: nowMicros)
        context.deadline = deadline
        context.maxRows = 10_000_000
        let now = try hops(fromMicros, endMicros, addresses: true, snapshot: snapshot, context: context)
        let before = try hops(previousFromMicros, fromMicros, addresses: false, snapshot: snapshot, context: context)
        let loss = try QueryEngine.table("stats loss \(span(fromMicros, endMicros)) by target", snapshot: snapshot, context: context)
        let lossBefore = try QueryEngine.table("stats loss \(span(previousFromMicros, fromMicros)) by target", snapshot: snapshot, context: context)
        let changes = try QueryEngine.table("changes \(span(fromMicros, endMicros))", snapshot: snapshot, context: context)
        let missed = try QueryEngine.table("missed \(span(fromMicros, endMicros))", snapshot: snapshot, context: context)
        func byTarget(_ t: ResultTable) -> [String: Double] {
            let c = Columns(t)
            return Dictionary(t.rows.compactMap { row in c.number(row, "loss").map { (c.text(row, "target"), $0) } }, uniquingKeysWith: { a, _ in a })
        }
        let lossNow = byTarget(loss), lossPrev = byTarget(lossBefore)
        var changeCount = [String: Int](), missedCount = [String: Int]()
        let cc = Columns(changes), mc = Columns(missed)
        for row in changes.rows { changeCount[cc.text(row, "target"), default: 0] += 1 }
        for row in missed.rows { missedCount[mc.text(row, "target"), default: 0] += 1 }
        let targets = Set(now.keys).union(changeCount.keys).union(missedCount.keys)
        var rows = targets.map { target -> Row in
            let hopsNow = now[target] ?? [:], hopsBefore = before[target] ?? [:]
            // The destination: the highest TTL of each period.
            let destinationNow = hopsNow.keys.max().flatMap { hopsNow[$0] }, destinationBefore = hopsBefore.keys.max().flatMap { hopsBefore[$0] }
            let worse = hopsNow.keys.sorted().compactMap { ttl -> WorseHop? in
                guard let n = hopsNow[ttl], let b = hopsBefore[ttl] else { return nil }
                let slower = n.median.map { m in b.median.map { m - $0 >= 5 && m >= $0 * 1.2 } ?? false } ?? false
                let lossier = (n.loss ?? 0) - (b.loss ?? 0) >= 5
                guard slower || lossier else { return nil }
                return WorseHop(ttl: ttl, address: n.address, medianBefore: b.median, medianNow: n.median, lossBefore: b.loss, lossNow: n.loss)
            }
            return Row(target: target, changes: changeCount[target] ?? 0, lossBefore: lossPrev[target], lossNow: lossNow[target],
                       medianBefore: destinationBefore?.median, medianNow: destinationNow?.median, worseHops: worse, missed: missedCount[target] ?? 0)
        }
        rows.sort { a, b in
            switch rank {
            case .changes: (b.changes, a.target) < (a.changes, b.target)
            case .loss: (b.lossIncrease, a.target) < (a.lossIncrease, b.target)
            case .rtt: (b.rttIncrease, a.target) < (a.rttIncrease, b.target)
            case .hops: (b.worseHops.count, a.target) < (a.worseHops.count, b.target)
            case .missed: (b.missed, a.target) < (a.missed, b.target)
            case .name: a.target < b.target
            }
        }
        return Data(group: group, period: period.rawValue, from: RFC3339.format(micros: fromMicros), to: RFC3339.format(micros: endMicros),
                    previousFrom: RFC3339.format(micros: previousFromMicros), rank: rank.rawValue, targets: rows)
    }

    /// The rows as a result table, for CSV: one line a target, the worse hops in one cell.
    package static func table(_ data: Data) -> ResultTable {
        func v(_ d: Double?) -> ResultValue { d.map { .number($0) } ?? .null }
        return ResultTable(columns: ["target", "changes", "loss_before", "loss_now", "median_before_ms", "median_now_ms", "worse_hops", "missed"],
                           rows: data.targets.map { r in
                               [.text(r.target), .integer(Int64(r.changes)), v(r.lossBefore), v(r.lossNow), v(r.medianBefore), v(r.medianNow),
                                .text(r.worseHops.map { "TTL \($0.ttl) \($0.address)" }.joined(separator: "; ")), .integer(Int64(r.missed))]
                           })
    }

    package func model(snapshot: StoreSnapshot, nowMicros: Int64) throws -> [String: Any] {
        let data = try data(snapshot: snapshot, nowMicros: nowMicros)
        func n(_ v: Double?) -> String { v.map { ChartNumber.format($0) } ?? "–" }
        let base = "/reports?period=\(period.rawValue)" + (group.map { "&group=" + PagePath.escapeComponent($0) } ?? "")
            + "&end=" + PagePath.escapeComponent(data.to)
        let labels: [Rank: String] = [.name: "target", .changes: "path changes", .loss: "loss %", .rtt: "median ms", .hops: "hops worse", .missed: "missed"]
        return [
            "title": "Report: \(group ?? "all targets"), \(period.rawValue) to \(data.to)", "group": group ?? "all targets",
            "period": period.rawValue, "from": data.from, "to": data.to, "previousFrom": data.previousFrom,
            "periods": Period.allCases.map { p -> [String: Any] in
                ["label": p.rawValue, "href": "/reports?period=\(p.rawValue)" + (group.map { "&group=" + PagePath.escapeComponent($0) } ?? "") + "&rank=\(rank.rawValue)",
                 "current": p == period]
            },
            "columns": [Rank.name, .changes, .loss, .rtt, .hops, .missed].map { r -> [String: Any] in
                ["label": labels[r] ?? r.rawValue, "href": base + "&rank=\(r.rawValue)", "sorted": r == rank]
            },
            "csvHref": base + "&rank=\(rank.rawValue)&format=csv", "jsonHref": base + "&rank=\(rank.rawValue)&format=json",
            "empty": data.targets.isEmpty,
            "rows": data.targets.map { r -> [String: Any] in
                ["target": r.target, "href": "/targets/" + PagePath.escape(r.target), "changes": r.changes,
                 "loss": "\(n(r.lossBefore)) → \(n(r.lossNow))", "median": "\(n(r.medianBefore)) → \(n(r.medianNow))",
                 "worse": r.worseHops.map { h -> [String: Any] in
                     ["hop": "TTL \(h.ttl) \(h.address): \(n(h.medianBefore)) → \(n(h.medianNow)) ms, loss \(n(h.lossBefore)) → \(n(h.lossNow)) %"]
                 },
                 "worseCount": r.worseHops.count, "missed": r.missed]
            },
        ]
    }
}

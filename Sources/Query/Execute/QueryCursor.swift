public import PathTSDB

/// A running query: its columns, then its rows in batches. `probes` queries stream from the
/// store as they are read; the others are aggregates, computed on the first `next()`.
///
/// ```swift
/// var cursor = try QueryEngine.cursor("stats p95, loss of group \"eu\" last 1h", snapshot: s, context: c)
/// while let rows = try cursor.next() { … }
/// ```
public struct QueryCursor {
    package let plan: QueryPlan
    private let snapshot: StoreSnapshot
    private let context: QueryContext
    private let filter: RowFilter?
    private var stream: ProbeStream?
    private var buffered: [[ResultValue]]?
    private var offset = 0
    private var emitted = 0
    private var problemList: [StorageError] = []
    /// Rows per batch.
    package var batchSize = 4096

    /// The columns of the answer.
    public var columns: [ResultColumn] { plan.columns }

    /// Rows handed out so far.
    public var rowsEmitted: Int { emitted }

    /// Damaged segments met so far: their data is left out of the answer and the store has
    /// quarantined them.
    public var problems: [StorageError] { problemList + (stream?.problems ?? []) }

    init(plan: QueryPlan, snapshot: StoreSnapshot, context: QueryContext) throws(QueryError) {
        self.plan = plan
        self.snapshot = snapshot
        self.context = context
        filter = try plan.query.filter.map { e throws(QueryError) in try RowFilter(e, columns: plan.allColumns) }
        if plan.query.kind == .probes { stream = ProbeStream(plan: plan, snapshot: snapshot) }
    }

    /// The next batch of rows, or nil when the answer is complete.
    /// - Throws: `QueryError` when the deadline passes or the answer outgrows `maxRows`.
    public mutating func next() throws(QueryError) -> [[ResultValue]]? {
        let limit = plan.query.limit ?? Int.max
        guard emitted < limit else { return nil }
        var out = [[ResultValue]]()
        if stream != nil {
            var raw = [[ResultValue]]()
            let context = self.context, batchSize = self.batchSize
            while out.isEmpty {
                raw.removeAll(keepingCapacity: true)
                guard try stream?.next(into: &raw, rows: batchSize, context: context) == true else { break }
                out = filter.map { f in raw.filter(f.accepts) } ?? raw
            }
            if out.isEmpty { return nil }
        } else {
            if buffered == nil { buffered = try computeAll() }
            guard let all = buffered, offset < all.count else { return nil }
            let end = min(all.count, offset + batchSize)
            out = Array(all[offset..<end])
            offset = end
        }
        if out.count > limit - emitted { out.removeLast(out.count - (limit - emitted)) }
        emitted += out.count
        if let max = context.maxRows, emitted > max {
            throw QueryError("the answer has more than \(max) rows; narrow the query or add 'limit'", code: .tooManyRows)
        }
        return out
    }

    /// Whether `nextCSV` can write this answer directly as bytes: a `probes` query without a
    /// filter, the bulk of an export.
    package var rendersCSVDirectly: Bool { stream != nil && filter == nil }

    /// Appends the CSV rows (no header) of the next part of the answer, about `bytes` of them;
    /// false when the answer is complete. Only when `rendersCSVDirectly`.
    package mutating func nextCSV(into out: inout [UInt8], bytes: Int = 1 << 20) throws(QueryError) -> Bool {
        let limit = plan.query.limit ?? Int.max
        guard emitted < limit, var s = stream else { return false }
        stream = nil  // moved out while it works, so it is not copied
        defer { stream = s }
        let rows = try s.nextCSV(into: &out, bytes: bytes, maxRows: limit - emitted, context: context)
        emitted += rows
        if let max = context.maxRows, emitted > max {
            throw QueryError("the answer has more than \(max) rows; narrow the query or add 'limit'", code: .tooManyRows)
        }
        return rows > 0
    }

    /// Reads every remaining row into a table.
    public mutating func table() throws(QueryError) -> ResultTable {
        var t = ResultTable(columns: columns.map(\.name))
        while let rows = try next() { t.rows += rows }
        return t
    }

    // MARK: - Aggregate kinds

    private mutating func computeAll() throws(QueryError) -> [[ResultValue]] {
        var rows: [[ResultValue]]
        switch plan.query.kind {
        case .stats:
            rows = try StatsExecutor(plan: plan, snapshot: snapshot, context: context).rows(problems: &problemList)
        case .paths:
            rows = try pathRows()
        case .changes:
            rows = changeRows()
        case .targets:
            rows = plan.targets.map { t in
                let slash = t.name.lastIndex(of: "/")
                let group = slash.map { String(t.name[..<$0]) } ?? ""
                return [.text(t.name), .text(group), .text((context.tags?[t.name] ?? []).joined(separator: ","))]
            }
        case .probes:
            rows = []
        case .missed:
            rows = try missedRows()
        case .alerts:
            rows = try alertRows()
        }
        if let filter { rows = rows.filter(filter.accepts) }
        if !plan.query.order.isEmpty {
            let terms = plan.query.order.compactMap { term in
                plan.allColumns.firstIndex { $0.name == term.column }.map { ($0, term.descending) }
            }
            rows.sort { a, b in
                for (i, desc) in terms {
                    let c = ResultValue.order(a[i], b[i])
                    if c != 0 { return desc ? c > 0 : c < 0 }
                }
                return false
            }
        }
        let shown = plan.shownCount
        if shown < plan.allColumns.count { rows = rows.map { Array($0.prefix(shown)) } }
        return rows
    }

    private mutating func pathRows() throws(QueryError) -> [[ResultValue]] {
        var rows = [[ResultValue]]()
        let catalog = snapshot.catalog
        for t in plan.targets {
            try context.checkDeadline()
            let (routes, p) = snapshot.routeLifetimes(target: t.id, range: plan.range)
            problemList += p
            let asked = plan.query.routePaths
            for r in routes where asked.isEmpty || r.variants.contains(where: asked.contains) {
                // A load-balanced hop shows its branches joined by '|'.
                let text = r.branches.map { hop in
                    hop.isEmpty ? "*" : hop.map { catalog.address(of: $0)?.description ?? "?" }.joined(separator: "|")
                }.joined(separator: " ")
                rows.append([.text(t.name), .integer(Int64(r.path.rawValue)), .integer(Int64(r.variants.count)),
                             .time(r.firstSeenMicros), .time(r.lastSeenMicros), .integer(Int64(r.runs)),
                             .integer(Int64(r.reachedRuns)), .integer(Int64(r.hopCount)), .text(text)])
            }
        }
        return rows
    }

    private func missedRows() throws(QueryError) -> [[ResultValue]] {
        let selected = try nameSelection()
        return snapshot.missed(in: plan.range).filter { selected($0.target) }.map {
            [.time($0.slotMicros), .text($0.target), .text($0.vantage), .text($0.reason.description), .text($0.detail)]
        }
    }

    private func alertRows() throws(QueryError) -> [[ResultValue]] {
        guard let alerts = context.alerts else {
            throw QueryError("no alerts to read here: they are kept by a server or monitor started with --rules", code: .notFound)
        }
        let selected = try nameSelection()
        var rows = [[ResultValue]]()
        for t in alerts where plan.range.contains(t.timeMicros) && selected(t.target) {
            let hop: ResultValue = t.hop == 0 ? .null : .integer(Int64(t.hop))
            let value: ResultValue = t.value.isNaN ? .null : .number(t.value)
            let row: [ResultValue] = [.time(t.timeMicros), .integer(Int64(t.alertID)), .text(t.state.description), .text(t.rule),
                                      .text(t.target), hop, .text(t.severity), value, .text(t.annotations["summary"] ?? "")]
            rows.append(row)
        }
        return rows
    }

    /// Whether a target named in a record (not in the catalog) is one the query selects.
    private func nameSelection() throws(QueryError) -> (String) -> Bool {
        let selectors = plan.query.targets
        if selectors.contains(where: { if case .tag = $0 { true } else { false } }), context.tags == nil {
            throw QueryError("tags come from the targets file, and none is loaded")
        }
        var patterns = [String: Regex<AnyRegexOutput>]()
        for case .pattern(let p) in selectors where !p.isEmpty {
            do { patterns[p] = try Regex(p) } catch { throw QueryError("not a valid regular expression: \(p)") }
        }
        func selected(_ name: String) -> Bool {
            selectors.isEmpty || selectors.contains { s in
                switch s {
                case .name(let n): n == name
                case .pattern(let p): p.isEmpty || patterns[p].map { name.contains($0) } ?? false
                case .group(let g): name.hasPrefix(g.hasSuffix("/") ? g : g + "/")
                case .tag(let t): context.tags?[name]?.contains(t) == true
                }
            }
        }
        return selected
    }

    private mutating func changeRows() -> [[ResultValue]] {
        let names = Dictionary(uniqueKeysWithValues: plan.targets.map { ($0.id, $0.name) })
        let (events, p) = snapshot.events(in: plan.range)
        problemList += p
        let catalog = snapshot.catalog
        return events.compactMap { e in
            guard let name = names[e.target] else { return nil }
            // Every TTL that differs, from the two paths (for a load-balanced route, the routes).
            let differing = catalog.path(of: e.oldPath).flatMap { old in catalog.path(of: e.newPath).map { old.differingTTLs(to: $0) } }
            func flag(_ f: PathChangeEvent.Flags) -> ResultValue { .integer(e.flags.contains(f) ? 1 : 0) }
            return [.time(e.timeMicros), .text(name), .text(catalog.name(of: e.vantage) ?? ""),
                    .integer(Int64(e.oldPath.rawValue)), .integer(Int64(e.newPath.rawValue)),
                    .integer(Int64(e.firstDifferingTTL)), .integer(Int64(e.oldHopCount)), .integer(Int64(e.newHopCount)),
                    differing.map { .text($0.map(String.init).joined(separator: ",")) } ?? .null,
                    flag(.oldReached), flag(.newReached), flag(.destinationChanged), flag(.loadBalanced)]
        }
    }
}

extension ResultValue {
    /// Total order for sorting: nulls last, numbers by value, then times, then text.
    static func order(_ a: ResultValue, _ b: ResultValue) -> Int {
        func rank(_ v: ResultValue) -> Int {
            switch v {
            case .integer, .number: 0
            case .time: 1
            case .text: 2
            case .null: 3
            }
        }
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.integer, .number), (.number, .integer), (.number, .number):
            let x = a.double ?? 0, y = b.double ?? 0
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.time(let x), .time(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.text(let x), .text(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        default: return rank(a) - rank(b)
        }
    }

    /// The cell as a number, when it is one.
    public var double: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }
}

/// Entry points: text in, cursor or table out.
public enum QueryEngine {
    /// Parses and plans `text` against `snapshot`, ready to run.
    public static func cursor(_ text: String, snapshot: StoreSnapshot, context: QueryContext) throws(QueryError) -> QueryCursor {
        let q = try Parser.parse(text)
        return try cursor(q, snapshot: snapshot, context: context)
    }

    /// Plans a parsed query against `snapshot`, ready to run.
    package static func cursor(_ q: ParsedQuery, snapshot: StoreSnapshot, context: QueryContext) throws(QueryError) -> QueryCursor {
        let plan = try QueryPlanner.plan(q, snapshot: snapshot, context: context)
        return try QueryCursor(plan: plan, snapshot: snapshot, context: context)
    }

    /// Runs `text` to completion.
    public static func table(_ text: String, snapshot: StoreSnapshot, context: QueryContext) throws(QueryError) -> ResultTable {
        var c = try cursor(text, snapshot: snapshot, context: context)
        return try c.table()
    }
}

package import PathTSDB

/// A target a plan reads.
package struct SelectedTarget: Sendable, Equatable {
    package var id: TargetID
    package var name: String
}

/// A query resolved against one store snapshot: which targets, which microseconds, which
/// source, and the columns of the answer.
package struct QueryPlan: Sendable {
    package let query: ParsedQuery
    /// Targets to read, by name.
    package let targets: [SelectedTarget]
    package let range: Range<Int64>
    package let stepMicros: Int64?
    /// Grouping keys of a stats query, in output order.
    package let keys: [GroupKey]
    /// The aggregates computed: those shown, then those only the filter or ordering uses.
    package let aggregates: [Aggregate]
    /// Every column a row holds: the shown ones first, then the hidden aggregates.
    package let allColumns: [ResultColumn]
    /// How many of `allColumns` the answer shows.
    package let shownCount: Int
    /// The rollup tier a stats query reads, or nil for raw data.
    package let rollupTier: RollupTier?

    /// Whether a stats query's groups pool every hop of their targets (no `ttl` or `address`
    /// key, no hop clause): then its `loss` is the targets' end-to-end loss.
    static func isEndToEnd(keys: [GroupKey], hops: [HopSelector]) -> Bool {
        !keys.contains(.ttl) && !keys.contains(.address) && hops.isEmpty
    }

    var isEndToEnd: Bool { QueryPlan.isEndToEnd(keys: keys, hops: query.hops) }
    /// With `path`: per target, the dictionary paths of the routes asked for, in the plan's
    /// range. A run is read only if its path is among its target's; nil reads every run.
    package let runPaths: [TargetID: Set<PathID>]?

    /// Whether the plan reads a run of `target` that took `path`.
    @inline(__always) func reads(_ path: PathID, of target: TargetID) -> Bool {
        guard let runPaths else { return true }
        return runPaths[target]?.contains(path) ?? false
    }

    /// The columns of the answer.
    package var columns: [ResultColumn] { Array(allColumns.prefix(shownCount)) }

    /// One line on how the query runs, for logs and `X-SmokeTrace-Plan`.
    package var summary: String {
        var s = "\(query.kind.rawValue) over \(targets.count) target(s)"
        if query.kind == .stats {
            s += rollupTier.map { " from \(DurationText.format(micros: $0.micros)) rollups" } ?? " from raw data"
        }
        return s
    }
}

/// Turns a parsed query into a plan: resolves targets and times, prunes by the store's index
/// (targets and time bounds), and picks rollups where they give the same answer.
package enum QueryPlanner {
    package static func plan(_ q: ParsedQuery, snapshot: StoreSnapshot, context: QueryContext) throws(QueryError) -> QueryPlan {
        // Missed slots and alerts name their targets themselves (a target may never have been
        // traced, or an alert of a query rule be about every target).
        let byName = q.kind == .missed || q.kind == .alerts
        let targets = byName ? [] : try selectTargets(q.targets, catalog: snapshot.catalog, context: context)
        let held = snapshot.timeRange
        var range = try timeRange(q.range, held: held, now: context.nowMicros)
        // They may lie outside every run's time: "everything" means every time for them.
        if byName && q.range == .all { range = Int64.min..<Int64.max }

        var keys = [GroupKey]()
        var step = q.stepMicros
        if q.kind == .stats {
            keys = q.groupBy ?? (step == nil ? [.target, .ttl] : [.target, .time, .ttl])
            if keys.contains(.time) && step == nil {
                throw QueryError("grouping by time needs a step (add, for example, 'step 1h')")
            }
            if step != nil && !keys.contains(.time) { keys.append(.time) }
        } else {
            step = nil
        }
        // Buckets are whole steps from the epoch, so the range grows to whole steps; a query over
        // everything grows to whole days, so that rollups can answer it.
        if let widen = step ?? (q.range == .all && !byName ? RollupTier.oneDay.micros : nil), !range.isEmpty {
            range = floor(range.lowerBound, widen)..<ceil(range.upperBound, widen)
        }

        var aggregates = q.aggregates
        var columns = keys.map(keyColumn)
        if q.kind == .stats {
            columns += aggregates.map { ResultColumn($0.name, .number($0.unit)) }
        } else {
            columns = fixedColumns(q.kind)
        }
        let shown = columns.count
        // Aggregates that only the filter or the ordering names are computed but not shown.
        var q = q
        q.filter = q.filter.map { resolveWords($0, columns: columns, kind: q.kind) }
        var referenced = [(String, SourcePosition)]()
        if let f = q.filter { collectColumns(f, into: &referenced) }
        referenced += q.order.map { ($0.column, $0.position) }
        for (name, pos) in referenced where !columns.contains(where: { $0.name == name }) {
            guard q.kind == .stats, let a = Aggregate(name: name) else {
                let known = columns.map(\.name).joined(separator: ", ")
                throw QueryError("unknown column '\(name)' (this query has: \(known)\(q.kind == .stats ? ", or any aggregate" : ""))",
                                 line: pos.line, column: pos.column)
            }
            // One aggregate per column, even one already computed under another spelling
            // (`p9.` beside `p9`): a row's cells follow the aggregates one for one.
            aggregates.append(a)
            columns.append(ResultColumn(name, .number(a.unit)))
        }
        if let f = q.filter { try checkTypes(f, columns: columns) }

        var tier: RollupTier?
        if q.kind == .stats {
            tier = try chooseTier(q, keys: keys, aggregates: aggregates, range: range, step: step, newest: held?.upperBound,
                                  endToEndRollups: snapshot.holdsEndToEndRollups)
        }
        var targetsRead = targets
        var runPaths: [TargetID: Set<PathID>]?
        if !q.routePaths.isEmpty && q.kind != .paths {
            let found = try routePaths(q.routePaths, targets: targets, range: range, snapshot: snapshot, context: context)
            runPaths = found
            // A target that never took the routes has nothing to read.
            targetsRead = targets.filter { found[$0.id] != nil }
        } else if !q.routePaths.isEmpty {
            try checkPathsExist(q.routePaths, catalog: snapshot.catalog)
        }
        return QueryPlan(query: q, targets: targetsRead, range: range, stepMicros: step, keys: keys, aggregates: aggregates,
                         allColumns: columns, shownCount: shown, rollupTier: tier, runPaths: runPaths)
    }

    // MARK: - Targets

    static func selectTargets(_ selectors: [TargetSelector], catalog: Catalog, context: QueryContext) throws(QueryError) -> [SelectedTarget] {
        // Names alone are looked up, not matched against every target.
        let names = selectors.compactMap { if case .name(let n) = $0 { n } else { nil } }
        if names.count == selectors.count && !names.isEmpty {
            var out = [SelectedTarget]()
            for n in Set(names).sorted() {
                guard let id = catalog.targetID(named: n) else { throw QueryError("no target named \"\(n)\"", code: .notFound) }
                out.append(SelectedTarget(id: id, name: n))
            }
            return out
        }
        let all = catalog.targets.map { SelectedTarget(id: $0.id, name: $0.name) }.sorted { $0.name < $1.name }
        guard !selectors.isEmpty else { return all }
        var chosen = Set<TargetID>()
        for s in selectors {
            switch s {
            case .name(let n):
                guard let id = catalog.targetID(named: n) else { throw QueryError("no target named \"\(n)\"", code: .notFound) }
                chosen.insert(id)
            case .pattern(let p):
                let regex: Regex<AnyRegexOutput>
                do { regex = try Regex(p) } catch { throw QueryError("not a valid regular expression: \(p)") }
                for t in all where p.isEmpty || t.name.contains(regex) { chosen.insert(t.id) }
            case .group(let g):
                let prefix = g.hasSuffix("/") ? g : g + "/"
                for t in all where t.name.hasPrefix(prefix) { chosen.insert(t.id) }
            case .tag(let tag):
                guard let tags = context.tags else {
                    throw QueryError("tag \"\(tag)\": tags come from the targets file, and none is loaded")
                }
                for t in all where tags[t.name]?.contains(tag) == true { chosen.insert(t.id) }
            }
        }
        return all.filter { chosen.contains($0.id) }
    }

    // MARK: - Paths

    static func checkPathsExist(_ ids: [PathID], catalog: Catalog) throws(QueryError) {
        for id in ids where catalog.path(of: id) == nil {
            throw QueryError("no path \(id.rawValue) in the store's path dictionary", code: .notFound)
        }
    }

    /// Per target, every dictionary path of the routes (as `paths` gathers them in `range`) that
    /// contain one of `ids`; targets that never took them are left out.
    static func routePaths(_ ids: [PathID], targets: [SelectedTarget], range: Range<Int64>, snapshot: StoreSnapshot,
                           context: QueryContext) throws(QueryError) -> [TargetID: Set<PathID>] {
        try checkPathsExist(ids, catalog: snapshot.catalog)
        var out = [TargetID: Set<PathID>]()
        for t in targets {
            try context.checkDeadline()
            // Damage met here is met again, and reported, when the runs are read for the answer.
            let (routes, _) = snapshot.routeLifetimes(target: t.id, range: range)
            for r in routes where r.variants.contains(where: ids.contains) {
                out[t.id, default: []].formUnion(r.variants)
            }
        }
        return out
    }

    // MARK: - Time

    static func timeRange(_ spec: TimeSpec, held: ClosedRange<Int64>?, now: Int64) throws(QueryError) -> Range<Int64> {
        switch spec {
        case .all:
            guard let held else { return 0..<0 }
            return held.lowerBound..<(held.upperBound + 1)
        case .last(let d):
            return (now - d)..<now
        case .since(let t):
            let start = t.resolve(now: now)
            return start..<max(start, now + 1, (held?.upperBound ?? start) + 1)
        case .between(let a, let b):
            let start = a.resolve(now: now), end = b.resolve(now: now)
            guard start < end else { throw QueryError("the time range ends before it starts (\(RFC3339.format(micros: start)) to \(RFC3339.format(micros: end)))") }
            return start..<end
        }
    }

    static func floor(_ t: Int64, _ step: Int64) -> Int64 { TimeArithmetic.floorMultiple(t, of: step) }

    static func ceil(_ t: Int64, _ step: Int64) -> Int64 {
        let f = floor(t, step)
        if f == t { return t }
        let (c, overflow) = f.addingReportingOverflow(step)
        return overflow ? Int64.max : c
    }

    // MARK: - Columns

    static func keyColumn(_ k: GroupKey) -> ResultColumn {
        switch k {
        case .target: ResultColumn("target", .text)
        case .ttl: ResultColumn("ttl", .number(.count))
        case .address: ResultColumn("address", .address)
        case .time: ResultColumn("time", .time)
        }
    }

    static func fixedColumns(_ kind: ParsedQuery.Kind) -> [ResultColumn] {
        switch kind {
        case .stats: []
        case .paths:
            [ResultColumn("target", .text), ResultColumn("path", .number(.count)), ResultColumn("variants", .number(.count)),
             ResultColumn("first_seen", .time),
             ResultColumn("last_seen", .time), ResultColumn("runs", .number(.count)), ResultColumn("reached", .number(.count)),
             ResultColumn("hop_count", .number(.count)), ResultColumn("hops", .text)]
        case .changes:
            [ResultColumn("time", .time), ResultColumn("target", .text), ResultColumn("vantage", .text),
             ResultColumn("old_path", .number(.count)), ResultColumn("new_path", .number(.count)),
             ResultColumn("diff_ttl", .number(.count)), ResultColumn("old_hops", .number(.count)),
             ResultColumn("new_hops", .number(.count)), ResultColumn("diff_ttls", .text),
             ResultColumn("old_reached", .number(.count)), ResultColumn("new_reached", .number(.count)),
             ResultColumn("dest_changed", .number(.count)), ResultColumn("balanced", .number(.count))]
        case .probes:
            [ResultColumn("target", .text), ResultColumn("start", .time), ResultColumn("ttl", .number(.count)),
             ResultColumn("probe", .number(.count)), ResultColumn("address", .address), ResultColumn("rtt_us", .number(.count))]
        case .targets:
            [ResultColumn("target", .text), ResultColumn("group", .text), ResultColumn("tags", .text)]
        case .missed:
            [ResultColumn("time", .time), ResultColumn("target", .text), ResultColumn("vantage", .text), ResultColumn("reason", .text),
             ResultColumn("detail", .text)]
        case .alerts:
            [ResultColumn("time", .time), ResultColumn("alert_id", .number(.count)), ResultColumn("state", .text),
             ResultColumn("rule", .text), ResultColumn("target", .text), ResultColumn("hop", .number(.count)),
             ResultColumn("severity", .text), ResultColumn("value", .number(.count)), ResultColumn("summary", .text)]
        }
    }

    static func collectColumns(_ e: Expression, into out: inout [(String, SourcePosition)]) {
        switch e {
        case .and(let a, let b), .or(let a, let b):
            collectColumns(a, into: &out)
            collectColumns(b, into: &out)
        case .not(let a):
            collectColumns(a, into: &out)
        case .compare(let c, _, let value, let pos):
            out.append((c, pos))
            if case .column(let other) = value { out.append((other, pos)) }
        }
    }

    /// Bare words on the right of a comparison: a column (or, in stats, an aggregate) when one
    /// has that name, text otherwise.
    static func resolveWords(_ e: Expression, columns: [ResultColumn], kind: ParsedQuery.Kind) -> Expression {
        switch e {
        case .and(let a, let b): return .and(resolveWords(a, columns: columns, kind: kind), resolveWords(b, columns: columns, kind: kind))
        case .or(let a, let b): return .or(resolveWords(a, columns: columns, kind: kind), resolveWords(b, columns: columns, kind: kind))
        case .not(let a): return .not(resolveWords(a, columns: columns, kind: kind))
        case .compare(let c, let op, .word(let w), let pos):
            let name = w.lowercased()
            let isColumn = columns.contains { $0.name == name } || (kind == .stats && Aggregate(name: name) != nil)
            return .compare(column: c, op: op, value: isColumn ? .column(name) : .text(w), position: pos)
        case .compare:
            return e
        }
    }

    /// Checks every comparison against its column's type: `loss > 50ms` or `target > 3` is an
    /// error at the comparison, not an empty answer.
    static func checkTypes(_ e: Expression, columns: [ResultColumn]) throws(QueryError) {
        switch e {
        case .and(let a, let b), .or(let a, let b):
            try checkTypes(a, columns: columns)
            try checkTypes(b, columns: columns)
        case .not(let a):
            try checkTypes(a, columns: columns)
        case .compare(let name, let op, let value, let pos):
            guard let col = columns.first(where: { $0.name == name }) else { return }
            func fail(_ why: String) -> QueryError { QueryError("'\(name)' \(why)", line: pos.line, column: pos.column) }
            if case .column(let otherName) = value, let other = columns.first(where: { $0.name == otherName }) {
                let comparable: Bool
                switch (col.kind, other.kind) {
                case (.text, .text), (.address, .address), (.text, .address), (.address, .text), (.time, .time): comparable = true
                case (.number(let a), .number(let b)): comparable = a == b
                default: comparable = false
                }
                guard comparable else { throw fail("cannot be compared with '\(otherName)': they measure different things") }
                if [.matches, .notMatches, .inPrefix].contains(op) { throw fail("is compared with a column: use =, !=, <, <=, > or >=") }
                return
            }
            switch (col.kind, value) {
            case (.text, .text), (.address, .text):
                if ![.equal, .notEqual, .matches, .notMatches].contains(op) { throw fail("is text: compare it with =, !=, ~ or !~") }
            case (.address, .prefix):
                break
            case (.number(let unit), .number(_, let written)):
                if [.matches, .notMatches, .inPrefix].contains(op) { throw fail("is a number: compare it with =, !=, <, <=, > or >=") }
                if written != .none && written != unit {
                    let expected = unit == .milliseconds ? "an RTT (a number of ms, or with us, ms or s)" : unit == .percent ? "a percentage (5 or 5%)" : "a plain number"
                    throw fail("takes \(expected)")
                }
            case (.time, .time):
                if [.matches, .notMatches, .inPrefix].contains(op) { throw fail("is a time: compare it with =, !=, <, <=, > or >=") }
            case (.text, _): throw fail("is text: compare it with a quoted string")
            case (.address, _): throw fail("is an address: compare it with an address or use 'in PREFIX'")
            case (.number, _): throw fail("is a number")
            case (.time, _): throw fail("is a time: compare it with an RFC 3339 time")
            }
        }
    }

    // MARK: - Source

    static func chooseTier(_ q: ParsedQuery, keys: [GroupKey], aggregates: [Aggregate], range: Range<Int64>, step: Int64?,
                           newest: Int64?, endToEndRollups: Bool = true) throws(QueryError) -> RollupTier? {
        guard q.source != .raw else { return nil }
        var why: String?
        if QueryPlan.isEndToEnd(keys: keys, hops: q.hops) && aggregates.contains(.loss) && !endToEndRollups {
            why = "segments written before version 4 keep no end-to-end rows for a target's loss"
        }
        if keys.contains(.address) { why = "they are kept per hop, not per address" }
        if q.hops.contains(where: { if case .address = $0 { true } else { false } }) { why = "they are kept per hop, not per address" }
        if !q.routePaths.isEmpty { why = "they are kept per hop, not per path" }
        if let a = aggregates.first(where: { !$0.fromRollups }) { why = "they do not hold \(a.name)" }
        var tier: RollupTier?
        if why == nil {
            tier = [RollupTier.oneDay, .oneHour].first { t in
                let m = t.micros
                let endAligned = range.upperBound % m == 0 || range.upperBound > (newest ?? Int64.min)
                return (step ?? m) % m == 0 && range.lowerBound % m == 0 && endAligned
            }
            if tier == nil { why = "no rollup tier (1h, 1d) divides the step and the range's bounds" }
        }
        if q.source == .rollup, let why { throw QueryError("'using rollups' cannot answer this query: \(why)") }
        return tier
    }
}

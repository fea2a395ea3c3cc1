import PathTSDB

/// Parses query text into a `Query` (the grammar is in docs/QUERY.md). Errors give the line and
/// column, what was found there and what was expected.
package struct Parser {
    private var tokens: [Token]
    private var index = 0
    private var seen = Set<String>()

    /// Parses `text`; the whole text must be one query.
    package static func parse(_ text: String) throws(QueryError) -> ParsedQuery {
        var p = Parser(tokens: try Lexer.tokens(text))
        return try p.query()
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    // MARK: - Token access

    private var current: Token { tokens[index] }

    private mutating func next() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    /// The current token as a lower-cased keyword, or nil.
    private var keyword: String? {
        if case .word(let w) = current.kind { return w.lowercased() }
        return nil
    }

    private func error(_ expected: String, at token: Token? = nil) -> QueryError {
        let t = token ?? current
        return QueryError("expected \(expected), found \(t.display)", line: t.position.line, column: t.position.column)
    }

    private mutating func accept(keyword k: String) -> Bool {
        guard keyword == k else { return false }
        index += 1
        return true
    }

    private mutating func accept(symbol s: String) -> Bool {
        guard current.kind == .symbol(s) else { return false }
        index += 1
        return true
    }

    private mutating func expect(keyword k: String) throws(QueryError) {
        guard accept(keyword: k) else { throw error("'\(k)'") }
    }

    // MARK: - Query

    private static let kinds: [String: ParsedQuery.Kind] = [
        "stats": .stats, "paths": .paths, "changes": .changes, "probes": .probes, "targets": .targets, "missed": .missed,
        "alerts": .alerts,
    ]

    private mutating func query() throws(QueryError) -> ParsedQuery {
        guard let k = keyword, let kind = Parser.kinds[k] else {
            throw error("a query kind (stats, paths, changes, probes, targets, missed or alerts)")
        }
        index += 1
        var q = ParsedQuery(kind: kind)
        if kind == .stats { q.aggregates = try aggregateList() }
        while current.kind != .end {
            try clause(into: &q)
        }
        return q
    }

    private mutating func aggregateList() throws(QueryError) -> [Aggregate] {
        var list = [Aggregate]()
        repeat {
            guard case .word(let w) = current.kind, let a = Aggregate(name: w) else {
                throw error("an aggregate (count, answered, lost, loss, reply_loss, silent, min, max, mean, stddev, jitter, median or pNN such as p95)")
            }
            index += 1
            if !list.contains(a) { list.append(a) }
        } while accept(symbol: ",")
        return list
    }

    /// Which clauses each kind takes.
    private static let clauses: [ParsedQuery.Kind: Set<String>] = [
        .stats: ["of", "for", "hop", "hops", "path", "last", "since", "from", "step", "by", "where", "order", "limit", "using"],
        .paths: ["of", "for", "path", "last", "since", "from", "where", "order", "limit"],
        .changes: ["of", "for", "last", "since", "from", "where", "order", "limit"],
        .probes: ["of", "for", "hop", "hops", "path", "last", "since", "from", "where", "limit"],
        .targets: ["of", "for", "where", "order", "limit"],
        .missed: ["of", "for", "last", "since", "from", "where", "order", "limit"],
        .alerts: ["of", "for", "last", "since", "from", "where", "order", "limit"],
    ]

    private mutating func clause(into q: inout ParsedQuery) throws(QueryError) {
        let start = current
        if keyword == "to" {
            throw QueryError("'to' needs a 'from' before it", line: start.position.line, column: start.position.column)
        }
        guard let k = keyword, Parser.clauses[.stats]?.contains(k) == true else {
            let allowed = (Parser.clauses[q.kind] ?? []).sorted().joined(separator: ", ")
            throw error("a clause (\(allowed))")
        }
        guard Parser.clauses[q.kind]?.contains(k) == true else {
            throw QueryError("'\(k)' does not apply to \(q.kind.rawValue) queries", line: start.position.line, column: start.position.column)
        }
        // One clause of each sort: `of` and `for` are one, as are the time clauses.
        let family: String
        switch k {
        case "for": family = "of"
        case "hops": family = "hop"
        case "since", "from": family = "last"
        default: family = k
        }
        guard seen.insert(family).inserted else {
            throw QueryError("a second '\(family == "last" ? "time range" : k)' clause (each clause may appear once)",
                             line: start.position.line, column: start.position.column)
        }
        index += 1
        switch k {
        case "of", "for":
            repeat { q.targets.append(try targetSelector()) } while accept(symbol: ",")
        case "hop", "hops":
            repeat { q.hops.append(try hopSelector()) } while accept(symbol: ",")
        case "path":
            repeat {
                let t = next()
                guard case .literal(let l) = t.kind, let id = UInt32(l) else {
                    throw error("a path id (a number from `paths`)", at: t)
                }
                if !q.routePaths.contains(PathID(rawValue: id)) { q.routePaths.append(PathID(rawValue: id)) }
            } while accept(symbol: ",")
        case "last":
            q.range = .last(try duration())
        case "since":
            q.range = .since(try timePoint())
        case "from":
            let from = try timePoint()
            try expect(keyword: "to")
            q.range = .between(from, try timePoint())
        case "step":
            q.stepMicros = try duration()
        case "by":
            var keys = [GroupKey]()
            repeat {
                guard let w = keyword, let key = GroupKey(rawValue: w == "hop" ? "ttl" : w) else {
                    throw error("a grouping key (target, ttl, address or time)")
                }
                index += 1
                if !keys.contains(key) { keys.append(key) }
            } while accept(symbol: ",")
            q.groupBy = keys
        case "where":
            q.filter = try orExpression()
        case "order":
            try expect(keyword: "by")
            repeat {
                let t = current
                guard case .word(let w) = t.kind else { throw error("a column name") }
                index += 1
                var desc = false
                if accept(keyword: "desc") { desc = true } else { _ = accept(keyword: "asc") }
                q.order.append(OrderTerm(column: w.lowercased(), descending: desc, position: t.position))
            } while accept(symbol: ",")
        case "limit":
            let t = next()
            guard case .literal(let l) = t.kind, let n = Int(l), n >= 0 else { throw error("a row count", at: t) }
            q.limit = n
        case "using":
            let t = next()
            switch t.kind {
            case .word(let w) where w.lowercased() == "raw": q.source = .raw
            case .word(let w) where ["rollup", "rollups"].contains(w.lowercased()): q.source = .rollup
            case .word(let w) where w.lowercased() == "auto": q.source = .auto
            default: throw error("raw, rollups or auto", at: t)
            }
        default:
            preconditionFailure("clause '\(k)' is listed but not parsed")
        }
    }

    // MARK: - Selectors

    private mutating func name(_ what: String) throws(QueryError) -> String {
        let t = next()
        switch t.kind {
        case .string(let s), .word(let s): return s
        default: throw error(what, at: t)
        }
    }

    private mutating func targetSelector() throws(QueryError) -> TargetSelector {
        if accept(keyword: "all") { return .pattern("") }
        if accept(keyword: "group") { return .group(try name("a group name")) }
        if accept(keyword: "tag") { return .tag(try name("a tag")) }
        if accept(keyword: "target") {
            if accept(symbol: "~") {
                let t = next()
                guard case .string(let s) = t.kind else { throw error("a quoted regular expression", at: t) }
                try checkRegex(s, at: t)
                return .pattern(s)
            }
            return .name(try name("a target name"))
        }
        switch current.kind {
        case .string(let s), .word(let s):
            index += 1
            return .name(s)
        default:
            throw error("a target (a name, target NAME, target ~ \"REGEX\", group NAME, tag NAME or all)")
        }
    }

    /// Longest regular expression accepted: patterns run on every target name, without a time limit.
    static let maxPatternLength = 256

    private func checkRegex(_ pattern: String, at t: Token) throws(QueryError) {
        guard pattern.count <= Parser.maxPatternLength else {
            throw QueryError("the regular expression is longer than \(Parser.maxPatternLength) characters", line: t.position.line, column: t.position.column)
        }
        do {
            _ = try Regex(pattern)
        } catch {
            throw QueryError("not a valid regular expression: \(error)", line: t.position.line, column: t.position.column)
        }
    }

    private mutating func hopSelector() throws(QueryError) -> HopSelector {
        if accept(keyword: "address") {
            let t = next()
            switch t.kind {
            case .literal(let s), .word(let s), .string(let s):
                guard let p = IPPrefix(s) else { throw error("an address or prefix such as 192.0.2.1 or 10.0.0.0/8", at: t) }
                return .address(p)
            default:
                throw error("an address or prefix", at: t)
            }
        }
        let t = next()
        guard case .literal(let l) = t.kind, let lo = Int(l), (1...255).contains(lo) else {
            throw error("a TTL from 1 to 255, a TTL range such as 3..9, or address PREFIX", at: t)
        }
        guard accept(symbol: "..") else { return .ttl(lo...lo) }
        let u = next()
        guard case .literal(let ul) = u.kind, let hi = Int(ul), (lo...255).contains(hi) else {
            throw error("a TTL from \(lo) to 255 ending the range", at: u)
        }
        return .ttl(lo...hi)
    }

    // MARK: - Times

    private mutating func duration() throws(QueryError) -> Int64 {
        let t = next()
        guard case .literal(let l) = t.kind, let d = DurationText.parseMicros(l.lowercased()), d > 0 else {
            if case .literal(let l) = t.kind, DurationText.isTooLong(l.lowercased()) {
                throw QueryError("duration '\(l)' is longer than 1000 years", line: t.position.line, column: t.position.column)
            }
            throw error("a duration such as 90s, 5m, 24h or 7d", at: t)
        }
        return d
    }

    private mutating func timePoint() throws(QueryError) -> TimePoint {
        let t = next()
        switch t.kind {
        case .word(let w) where w.lowercased() == "now":
            return .relative(0)
        case .literal(let l), .string(let l):
            if let abs = RFC3339.parse(l) { return .absolute(abs) }
            if l.hasPrefix("-"), let d = DurationText.parseMicros(String(l.dropFirst())) { return .relative(-d) }
            if l.hasPrefix("-"), DurationText.isTooLong(String(l.dropFirst())) {
                throw QueryError("offset '\(l)' is longer than 1000 years", line: t.position.line, column: t.position.column)
            }
            if let day = RFC3339.parse(l + "T00:00:00Z") { return .absolute(day) }
        default:
            break
        }
        throw error("a time: RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01), now, or an offset such as -24h", at: t)
    }

    // MARK: - Filters

    private mutating func orExpression() throws(QueryError) -> Expression {
        var e = try andExpression()
        while accept(keyword: "or") { e = .or(e, try andExpression()) }
        return e
    }

    private mutating func andExpression() throws(QueryError) -> Expression {
        var e = try unary()
        while accept(keyword: "and") { e = .and(e, try unary()) }
        return e
    }

    /// How deep `not` and parentheses may nest: deep enough for any real filter, shallow enough
    /// that a hostile query cannot exhaust the stack.
    static let maxNesting = 64
    private var nesting = 0

    private mutating func unary() throws(QueryError) -> Expression {
        if keyword == "not" || current.kind == .symbol("(") {
            let opening = current
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= Parser.maxNesting else {
                throw QueryError("the filter nests deeper than \(Parser.maxNesting) levels", line: opening.position.line, column: opening.position.column)
            }
            if accept(keyword: "not") { return .not(try unary()) }
            index += 1
            let e = try orExpression()
            guard accept(symbol: ")") else { throw error("')'") }
            return e
        }
        let t = current
        guard case .word(let column) = t.kind else { throw error("a column name, 'not' or '('") }
        index += 1
        let opToken = current
        let op: Comparison
        if case .symbol(let s) = opToken.kind, let c = Comparison(rawValue: s), c != .inPrefix {
            op = c
            index += 1
        } else if accept(keyword: "in") {
            op = .inPrefix
        } else {
            throw error("a comparison (=, !=, <, <=, >, >=, ~, !~ or in)")
        }
        let v = next()
        let value: Literal
        switch (op, v.kind) {
        case (.inPrefix, .literal(let s)), (.inPrefix, .word(let s)), (.inPrefix, .string(let s)):
            guard let p = IPPrefix(s) else { throw error("a prefix such as 10.0.0.0/8", at: v) }
            value = .prefix(p)
        case (.matches, .string(let s)), (.notMatches, .string(let s)):
            try checkRegex(s, at: v)
            value = .text(s)
        case (.matches, _), (.notMatches, _), (.inPrefix, _):
            throw error(op == .inPrefix ? "a prefix" : "a quoted regular expression", at: v)
        case (_, .string(let s)):
            value = .text(s)
        case (_, .word(let s)):
            value = .word(s)
        case (_, .literal(let s)):
            guard let lit = Parser.literal(s) else {
                throw error("a number (5, 2.5), a number with a unit (50ms, 1s, 5%) or a time", at: v)
            }
            value = lit
        default:
            throw error("a value", at: v)
        }
        return .compare(column: column.lowercased(), op: op, value: value, position: t.position)
    }

    /// A literal in a comparison: a plain number, a percentage, an RTT or span (`us`, `ms`, `s`,
    /// `m`, `h`, `d`, in milliseconds), a time, or an address (compared as text).
    static func literal(_ s: String) -> Literal? {
        if let t = RFC3339.parse(s) { return .time(t) }
        if let d = Double(s), !s.hasPrefix("+"), d.isFinite { return .number(d, .none) }
        if s.hasSuffix("%"), let d = Double(s.dropLast()), d.isFinite { return .number(d, .percent) }
        let units: [(String, Double)] = [("us", 0.001), ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            if let d = Double(s.dropLast(suffix.count)), d.isFinite, !s.hasPrefix("+") { return .number(d * scale, .milliseconds) }
        }
        if IPAddress(s) != nil { return .text(s) }
        return nil
    }
}

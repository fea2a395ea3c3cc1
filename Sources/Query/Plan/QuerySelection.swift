package import PathTSDB

/// A selection written as options rather than query text — targets, groups, a time range and
/// hops — as `stserver export` and the API's `/export`, `/paths` and `/changes` take them. Both
/// build their query here, so a time or a TTL means the same on the command line and over HTTP.
package struct QuerySelection: Sendable, Equatable {
    package var targets: [String] = []
    package var groups: [String] = []
    /// Start and end (excluded): RFC 3339, `now`, or an offset from the query's now (`-24h`,
    /// `now-24h`, `+1h`). Nil leaves that end open.
    package var from: String?
    package var to: String?
    /// TTLs, 1 to 255.
    package var hops: [Int] = []

    package init(targets: [String] = [], groups: [String] = [], from: String? = nil, to: String? = nil, hops: [Int] = []) {
        self.targets = targets
        self.groups = groups
        self.from = from
        self.to = to
        self.hops = hops
    }

    /// The query of `kind` over the selection. `field` names a field in an error as the caller's
    /// user wrote it (`--from`, `from=`).
    package func query(_ kind: ParsedQuery.Kind, field: (String) -> String = { $0 }) throws(QueryError) -> ParsedQuery {
        var q = ParsedQuery(kind: kind)
        if targets.contains(where: \.isEmpty) { throw QueryError("\(field("target")) needs a name") }
        if groups.contains(where: \.isEmpty) { throw QueryError("\(field("group")) needs a name") }
        q.targets = targets.map { .name($0) } + groups.map { .group($0) }
        func point(_ text: String?, _ name: String) throws(QueryError) -> TimePoint? {
            guard let text else { return nil }
            guard let p = TimePoint(selectionText: text) else {
                throw QueryError("\(field(name)) \(text): expected an RFC 3339 time, now, or an offset such as -24h")
            }
            return p
        }
        q.range = TimeSpec(from: try point(from, "from"), to: try point(to, "to"))
        for ttl in hops {
            guard (1...255).contains(ttl) else { throw QueryError("\(field("hop")) \(ttl): expected a TTL from 1 to 255") }
            q.hops.append(.ttl(ttl...ttl))
        }
        return q
    }
}

extension TimePoint {
    /// A point as options write one: RFC 3339 (absolute), `now`, or an offset from now
    /// (`-24h`, `now-24h`, `+1h`), which the planner resolves against the query's now.
    package init?(selectionText text: String) {
        switch DurationText.parsePoint(text) {
        case .absolute(let t): self = .absolute(t)
        case .relative(let d): self = .relative(d)
        case nil: return nil
        }
    }
}

extension QueryContext {
    /// What relative times count from, as `--at` and `at=` write it: `now` (the wall clock),
    /// `newest` (just after the newest data `snapshot` holds, so that imported history reads as
    /// live data does), or an RFC 3339 time.
    package static func now(at text: String, snapshot: StoreSnapshot, wallClock: Int64 = WallClock.nowMicros()) -> Int64? {
        switch text {
        case "now": wallClock
        case "newest": (snapshot.timeRange?.upperBound ?? wallClock) + 1
        default: RFC3339.parse(text)
        }
    }
}

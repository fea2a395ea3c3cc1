package import PathTSDB

/// A parsed query, before the planner resolves it against a store.
package struct ParsedQuery: Sendable, Equatable {
    /// What the query lists.
    package enum Kind: String, Sendable, Equatable {
        /// Per-hop aggregates: `stats p50, p95, loss …`.
        case stats
        /// Distinct paths and their lifetimes.
        case paths
        /// Path-change events.
        case changes
        /// Every probe sent, one row each (what `export` writes).
        case probes
        /// The targets the selection matches.
        case targets
        /// Scheduled runs that did not start, and why.
        case missed
        /// Alert transitions: pending, firing, resolved, blip, cancelled (docs/ALERTS.md).
        case alerts
    }

    package var kind: Kind
    /// The aggregates to show, in order (stats only).
    package var aggregates: [Aggregate] = []
    /// Targets matching any selector are chosen; empty means every target.
    package var targets: [TargetSelector] = []
    /// Hops matching any selector are kept; empty means every hop.
    package var hops: [HopSelector] = []
    /// `path N, …`: only runs on the route of one of these dictionary paths (the route as
    /// `paths` lists it, variants and load-balancer branches included); empty keeps every run.
    package var routePaths: [PathID] = []
    package var range: TimeSpec = .all
    /// Bucket width; grouping by time needs one.
    package var stepMicros: Int64?
    /// Grouping keys (stats only); `nil` means the default, by target and hop.
    package var groupBy: [GroupKey]?
    /// Rows are kept only where this holds; it may name any column or aggregate.
    package var filter: Expression?
    package var order: [OrderTerm] = []
    package var limit: Int?
    package var source: StatisticsSource = .auto

    package init(kind: Kind) { self.kind = kind }
}

/// One aggregate of `stats`.
package enum Aggregate: Sendable, Hashable {
    /// Probes sent.
    case count
    /// Probes answered.
    case answered
    /// Probes lost.
    case lost
    /// The path's loss: end to end (the destination's) for a group that pools hops; at a hop,
    /// the loss that every later hop shares; null at a silent hop.
    case loss
    /// A hop's own loss: its lost probes as a percentage of those sent, including replies a
    /// router did not send (ICMP rate limiting); null at a silent hop.
    case replyLoss
    /// 1 for a hop that never answered while a later one did, 0 otherwise.
    case silent
    case min, max, mean
    /// Population standard deviation of the RTTs.
    case stddev
    /// Mean absolute difference between successive RTTs of a hop, in send order.
    case jitter
    /// The q-quantile of the RTTs, q in (0, 1]: `p95` is 0.95.
    case quantile(Double)

    /// The column name: `p95`, `loss`, `p99.9`.
    package var name: String {
        switch self {
        case .count: "count"
        case .answered: "answered"
        case .lost: "lost"
        case .loss: "loss"
        case .replyLoss: "reply_loss"
        case .silent: "silent"
        case .min: "min"
        case .max: "max"
        case .mean: "mean"
        case .stddev: "stddev"
        case .jitter: "jitter"
        case .quantile(let q): "p" + ResultValue.format(q * 100)
        }
    }

    /// What the value measures, for units in comparisons and output.
    package var unit: ValueUnit {
        switch self {
        case .count, .answered, .lost, .silent: .count
        case .loss, .replyLoss: .percent
        default: .milliseconds
        }
    }

    /// Whether rollups can answer it (rollups keep counts, extremes, sums and a quantile sketch).
    package var fromRollups: Bool {
        switch self {
        case .stddev, .jitter: false
        default: true
        }
    }

    /// Parses an aggregate name: `count`, `loss`, `avg` (for mean), `median` (for p50), `p95`, `p99.9` …
    package init?(name: String) {
        switch name.lowercased() {
        case "count", "sent": self = .count
        case "answered": self = .answered
        case "lost": self = .lost
        case "loss": self = .loss
        case "reply_loss": self = .replyLoss
        case "silent": self = .silent
        case "min": self = .min
        case "max": self = .max
        case "mean", "avg": self = .mean
        case "stddev": self = .stddev
        case "jitter": self = .jitter
        case "median": self = .quantile(0.5)
        case let n where n.hasPrefix("p") && n.count > 1:
            guard let pct = Double(n.dropFirst()), pct > 0, pct <= 100, !n.dropFirst().hasPrefix("+") else { return nil }
            self = .quantile(pct / 100)
        default: return nil
        }
    }
}

/// The unit of a column's numbers.
public enum ValueUnit: Sendable, Equatable {
    case count, percent, milliseconds, none
}

/// Which targets a query reads.
package enum TargetSelector: Sendable, Equatable {
    /// One target by its full name (`core/gw1`).
    case name(String)
    /// Targets whose name matches a regular expression (searched, not anchored).
    case pattern(String)
    /// Targets in a group of the targets file, subgroups included: names starting `group/`.
    case group(String)
    /// Targets carrying a tag in the targets file.
    case tag(String)
}

/// Which hops a query keeps.
package enum HopSelector: Sendable, Equatable {
    /// TTLs in a closed range (`hop 7` is 7...7).
    case ttl(ClosedRange<Int>)
    /// Hops whose responding address is in a prefix (a single address is a /32 or /128).
    case address(IPPrefix)
}

/// A time range as written; the planner turns it into microseconds.
package enum TimeSpec: Sendable, Equatable {
    /// Everything the store holds.
    case all
    /// The span ending now.
    case last(Int64)
    /// From a time to now.
    case since(TimePoint)
    /// From one time to another (end excluded).
    case between(TimePoint, TimePoint)
}

extension TimeSpec {
    /// The range between optional bounds, as the export and listing options give them: none is
    /// everything, a start alone runs to now, an end alone runs from the beginning.
    package init(from: TimePoint?, to: TimePoint?) {
        switch (from, to) {
        case (nil, nil): self = .all
        case (let f?, nil): self = .since(f)
        case (nil, let t?): self = .between(.absolute(Int64.min / 2), t)
        case (let f?, let t?): self = .between(f, t)
        }
    }
}

/// A point in time as written.
package enum TimePoint: Sendable, Equatable {
    case absolute(Int64)
    /// Microseconds relative to now (negative is the past).
    case relative(Int64)

    func resolve(now: Int64) -> Int64 {
        switch self {
        case .absolute(let t): t
        case .relative(let d): now + d
        }
    }
}

/// A grouping key of `stats`.
package enum GroupKey: String, Sendable, Equatable, CaseIterable {
    case target, ttl, address, time
}

/// An ordering term: a column name and a direction.
package struct OrderTerm: Sendable, Equatable {
    package var column: String
    package var descending: Bool
    package var position: SourcePosition
}

/// A filter expression over a row's columns.
package indirect enum Expression: Sendable, Equatable {
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)
    case compare(column: String, op: Comparison, value: Literal, position: SourcePosition)
}

/// Comparison operators; `~` and `!~` match a regular expression, `in` a prefix.
package enum Comparison: String, Sendable, Equatable {
    case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case matches = "~", notMatches = "!~", inPrefix = "in"
}

/// A constant in a filter.
package enum Literal: Sendable, Equatable {
    /// A number with the unit it was written in (`50ms` is 50 with `.milliseconds`, `5%` is 5 with `.percent`).
    case number(Double, ValueUnit)
    /// A quoted string.
    case text(String)
    /// A bare word: another column when one has that name (`new_hops > old_hops`), else text.
    /// The planner resolves it to `.column` or `.text`.
    case word(String)
    /// Another column of the same row.
    case column(String)
    case time(Int64)
    case prefix(IPPrefix)
}

/// One alert rule: which targets it watches, what it looks for, how long that must hold, and
/// what the alert says. A rule raises one alert per target (and per hop, for rules that look at
/// hops) its condition holds for.
package struct AlertRule: Sendable, Equatable {
    package var name: String
    package var selection: RuleSelection
    package var condition: RuleCondition
    /// How long the condition must hold before the alert fires.
    package var pending: PendingClause
    /// Runs the condition must be false in a row before a firing alert resolves (hysteresis):
    /// one good run inside a bad spell does not resolve and re-raise the alert.
    package var resolveAfterRuns: Int
    /// A firing alert stays firing at least this long after its condition last held, so a
    /// condition that comes and goes raises one alert, not one per spell (0: no hold-down).
    package var holdDownMicros: Int64 = 0
    package var severity: Severity
    package var labels: [String: String]
    /// Annotations by name (`summary`, `description`, …); `{{target}}`, `{{hop}}`, `{{value}}`,
    /// `{{rule}}`, `{{severity}}` and `{{detail}}` are replaced.
    package var annotations: [String: String]

    package init(name: String, selection: RuleSelection = RuleSelection(), condition: RuleCondition,
                pending: PendingClause = .runs(1), resolveAfterRuns: Int = 1, severity: Severity = .warning,
                labels: [String: String] = [:], annotations: [String: String] = [:]) {
        self.name = name
        self.selection = selection
        self.condition = condition
        self.pending = pending
        self.resolveAfterRuns = resolveAfterRuns
        self.severity = severity
        self.labels = labels
        self.annotations = annotations
    }
}

/// The targets a rule watches: by name, by group (a name prefix `group/`), by tag. Empty lists
/// match everything; a target must match every list that is given.
package struct RuleSelection: Sendable, Equatable {
    package var targets: [String] = []
    package var groups: [String] = []
    package var tags: [String] = []

    package init(targets: [String] = [], groups: [String] = [], tags: [String] = []) {
        self.targets = targets
        self.groups = groups
        self.tags = tags
    }

    package func matches(target: String, tags targetTags: [String]) -> Bool {
        (targets.isEmpty || targets.contains(target))
            && (groups.isEmpty || groups.contains { target.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") })
            && (tags.isEmpty || tags.contains { targetTags.contains($0) })
    }
}

/// How long a condition must hold before its alert fires.
package enum PendingClause: Sendable, Equatable, CustomStringConvertible {
    /// In this many evaluated runs in a row (1: at once).
    case runs(Int)
    /// In at least `n` of the last `m` runs.
    case nOfM(Int, Int)
    /// For this long, in microseconds, since it first held (Prometheus's `for`).
    case duration(Int64)

    package var description: String {
        switch self {
        case .runs(let n): "\(n)"
        case .nOfM(let n, let m): "\(n) of \(m)"
        case .duration(let d): "\(d / 1_000_000)s"
        }
    }
}

/// How urgent an alert is; receivers and routes match on it.
package enum Severity: String, Sendable, Equatable, CaseIterable {
    case info, warning, critical
}

/// Which hop a latency or loss condition looks at.
package enum HopChoice: Sendable, Equatable, CustomStringConvertible {
    /// The destination (end to end).
    case destination
    /// The hop at this TTL.
    case ttl(Int)
    /// Every hop: one alert per hop whose figure moved, named by the first such hop.
    case any

    package var description: String {
        switch self {
        case .destination: "destination"
        case .ttl(let t): "\(t)"
        case .any: "any"
        }
    }
}

/// What a latency rule compares the present with.
package enum Baseline: Sendable, Equatable {
    /// The median over the `n` runs before the ones being judged.
    case previousRuns(Int)
    /// The median over the same hour one week earlier.
    case sameHourLastWeek
}

/// What a rule looks for. Each case is documented with examples in docs/ALERTS.md.
package enum RuleCondition: Sendable, Equatable {
    /// The path changed (a path-change event of the store), at a TTL inside `ttls` and past the
    /// first `ignoreFirst` hops; with `lasting`, only once the new path held that many runs (a
    /// path that goes back sooner is a blip, recorded as such and not sent). The alert resolves
    /// when the path is back as it was in those TTLs, or once the new path has held
    /// `acceptAfterMicros` (it is then the path).
    case pathChanged(ttls: ClosedRange<Int>?, ignoreFirst: Int, lasting: Int, acceptAfterMicros: Int64)
    /// The hop count of the newest run is at least `by` above the median of the runs before.
    case hopCountGrew(by: Int, baselineRuns: Int)
    /// The newest run did not reach the destination.
    case destinationUnreachable
    /// The newest run holds an address this target never answered from in the `historyRuns`
    /// runs before it.
    case newAddress(historyRuns: Int)
    /// The median RTT of a run at the hop rose by at least `byMillis` ms and/or `byPercent` %
    /// (both must hold when both are given) over the baseline.
    case rttIncrease(hop: HopChoice, byMillis: Double?, byPercent: Double?, baseline: Baseline)
    /// Loss over the last `runs` runs is at least `percent`. At the destination this is the
    /// end-to-end loss; at a hop it counts only what every later hop lost too, so ICMP rate
    /// limiting at a router never raises it.
    case loss(hop: HopChoice, percent: Double, runs: Int)
    /// SmokePing's pattern matcher over the runs' loss (percent) or median RTT (ms).
    case pattern(SmokePingPattern)
    /// The path changed `changes` times or more within `windowMicros`.
    case flapping(changes: Int, windowMicros: Int64)
    /// The AS path changed. Needs hop → AS data (the BGP issue); until a store holds it, the
    /// rule is accepted and never holds.
    case asPathChanged
    /// A query of the language (docs/QUERY.md): every row it answers is an alert, keyed by its
    /// `target` and `ttl` columns.
    case query(String)

    /// The kind's name as the rules file writes it.
    package var kind: String {
        switch self {
        case .pathChanged: "path_changed"
        case .hopCountGrew: "hop_count_grew"
        case .destinationUnreachable: "destination_unreachable"
        case .newAddress: "new_address"
        case .rttIncrease: "rtt_increase"
        case .loss: "loss"
        case .pattern: "pattern"
        case .flapping: "flapping"
        case .asPathChanged: "as_path_changed"
        case .query: "query"
        }
    }
}

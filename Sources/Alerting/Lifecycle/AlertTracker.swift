package import PathTSDB

/// Which alert: a rule's alert for one target, and one hop where the rule looks at hops.
package struct AlertKey: Hashable, Sendable, CustomStringConvertible {
    package var rule: String
    package var target: String
    /// 0 for the target as a whole.
    package var hop: Int

    package var description: String { hop == 0 ? "\(rule) \(target)" : "\(rule) \(target) hop \(hop)" }
}

/// An alert that is pending or firing.
package struct ActiveAlert: Sendable, Equatable {
    package var id: UInt64
    package var key: AlertKey
    package var state: AlertTransition.State
    /// When the condition first held in this spell.
    package var sinceMicros: Int64
    package var firedMicros: Int64?
    package var severity: Severity
    package var labels: [String: String]
    package var annotations: [String: String]
    package var value: Double
    package var evidence: String
    package var acknowledged: Bool = false
    /// The latest runs' verdicts, newest last (for N of M).
    var window: [Bool] = []
    /// Runs in a row the condition has not held while firing (hysteresis).
    var clearRuns = 0
    /// When the condition last held (for the hold-down).
    var lastHeldMicros: Int64 = 0

    package static func == (a: ActiveAlert, b: ActiveAlert) -> Bool { a.id == b.id && a.state == b.state && a.acknowledged == b.acknowledged }
}

/// The alert lifecycle: pending, firing, resolved. A condition must hold as the rule's `for`
/// says before its alert fires; a firing alert resolves after `resolve_after` runs in a row
/// without it, so one good run in a bad spell neither resolves nor re-raises it.
package struct AlertTracker: Sendable {
    package private(set) var active: [AlertKey: ActiveAlert] = [:]
    private var nextID: UInt64 = 1

    package init() {}

    /// Rebuilds the alerts that were pending or firing from the log's transitions.
    package init(replaying records: [AlertRecord]) {
        for case .transition(let t) in records {
            nextID = max(nextID, t.alertID + 1)
            let key = AlertKey(rule: t.rule, target: t.target, hop: Int(t.hop))
            switch t.state {
            case .pending, .firing:
                var a = active[key] ?? ActiveAlert(id: t.alertID, key: key, state: t.state, sinceMicros: t.timeMicros,
                                                   severity: Severity(rawValue: t.severity) ?? .warning, labels: t.labels,
                                                   annotations: t.annotations, value: t.value, evidence: t.evidence)
                a.state = t.state
                a.lastHeldMicros = t.timeMicros
                if t.state == .firing { a.firedMicros = t.timeMicros }
                a.value = t.value
                a.evidence = t.evidence
                active[key] = a
            case .resolved, .cancelled:
                active[key] = nil
            case .blip:
                break
            }
        }
        for case .acknowledgement(let ack) in records {
            for (k, a) in active where a.id == ack.alertID { active[k]?.acknowledged = true }
        }
    }

    /// Records an acknowledgement; false when no active alert has that id.
    package mutating func acknowledge(_ id: UInt64) -> Bool {
        guard let k = active.first(where: { $0.value.id == id })?.key else { return false }
        active[k]?.acknowledged = true
        return true
    }

    /// Takes one verdict of `rule` for `key` at `time`; returns the transitions it causes.
    mutating func observe(_ finding: Finding, key: AlertKey, rule: AlertRule, time: Int64, render: (ActiveAlert) -> [String: String]) -> [AlertTransition] {
        if finding.blip {
            let a = ActiveAlert(id: take(), key: key, state: .blip, sinceMicros: time, severity: rule.severity, labels: labels(rule, key),
                                annotations: [:], value: finding.value, evidence: encode(finding.evidence))
            var b = a
            b.annotations = render(a)
            return [transition(b, .blip, time)]
        }
        var out = [AlertTransition]()
        if finding.holds {
            var a = active[key] ?? ActiveAlert(id: take(), key: key, state: .pending, sinceMicros: time, severity: rule.severity,
                                               labels: labels(rule, key), annotations: [:], value: finding.value, evidence: "")
            let isNew = active[key] == nil
            a.window.append(true)
            a.clearRuns = 0
            a.lastHeldMicros = time
            a.value = finding.value
            a.severity = rule.severity
            a.labels = labels(rule, key)
            a.evidence = encode(finding.evidence)
            trim(&a.window, rule.pending)
            if a.state == .pending && ready(a, rule.pending, time) {
                a.state = .firing
                a.firedMicros = time
                a.annotations = render(a)
                out.append(transition(a, .firing, time))
            } else if isNew {
                a.annotations = render(a)
                out.append(transition(a, .pending, time))
            }
            active[key] = a
        } else if var a = active[key] {
            a.window.append(false)
            trim(&a.window, rule.pending)
            a.value = finding.value
            switch a.state {
            case .pending:
                if case .nOfM = rule.pending, a.window.contains(true) {
                    active[key] = a
                } else {
                    active[key] = nil
                    out.append(transition(a, .cancelled, time))
                }
            default:
                a.clearRuns += 1
                if a.clearRuns >= rule.resolveAfterRuns && time - a.lastHeldMicros >= rule.holdDownMicros {
                    active[key] = nil
                    a.annotations = render(a)
                    out.append(transition(a, .resolved, time))
                } else {
                    active[key] = a
                }
            }
        }
        return out
    }

    /// Resolves the alerts of rules that are gone or no longer select their target.
    mutating func retire(where gone: (AlertKey) -> Bool, time: Int64) -> [AlertTransition] {
        var out = [AlertTransition]()
        for (k, a) in active where gone(k) {
            active[k] = nil
            out.append(transition(a, a.state == .pending ? .cancelled : .resolved, time))
        }
        return out
    }

    private func ready(_ a: ActiveAlert, _ clause: PendingClause, _ time: Int64) -> Bool {
        switch clause {
        case .runs(let n): a.window.suffix(n).count == n && a.window.suffix(n).allSatisfy { $0 }
        case .nOfM(let n, _): a.window.filter { $0 }.count >= n
        case .duration(let d): time - a.sinceMicros >= d
        }
    }

    private func trim(_ w: inout [Bool], _ clause: PendingClause) {
        let keep: Int
        switch clause {
        case .runs(let n): keep = n
        case .nOfM(_, let m): keep = m
        case .duration: keep = 1
        }
        if w.count > keep { w.removeFirst(w.count - keep) }
    }

    private mutating func take() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    private func labels(_ rule: AlertRule, _ key: AlertKey) -> [String: String] {
        var l = rule.labels
        l["alertname"] = rule.name
        l["rule"] = rule.name
        l["target"] = key.target
        l["severity"] = rule.severity.rawValue
        if key.hop != 0 { l["hop"] = String(key.hop) }
        return l
    }

    private func encode(_ e: AlertEvidence?) -> String {
        guard let e else { return "" }
        return EvidenceJSON.encode(e)
    }

    private func transition(_ a: ActiveAlert, _ state: AlertTransition.State, _ time: Int64) -> AlertTransition {
        AlertTransition(alertID: a.id, timeMicros: time, state: state, rule: a.key.rule, target: a.key.target,
                        hop: UInt8(clamping: a.key.hop), severity: a.severity.rawValue, value: a.value, labels: a.labels,
                        annotations: a.annotations, evidence: a.evidence)
    }
}

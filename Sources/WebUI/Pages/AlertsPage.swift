package import Alerting
import Foundation
package import PathTSDB

/// The alerts an operator opens first: those pending and firing now, each with its rule, target,
/// hop, severity and the evidence that raised it (the paths before and after, the verdict of
/// each criterion, the hops that got worse), a link to the diff of its path change; the recent
/// transitions; the silences in force. Signed in (the session's CSRF token given), each alert
/// has acknowledge and silence buttons: forms that POST, so that the page works without
/// JavaScript.
package struct AlertsPage: Sendable {
    package var active: [ActiveAlert]
    /// Transitions, oldest first (as the engine keeps them); the page shows the newest.
    package var recent: [AlertTransition]
    package var silences: [SilenceRecord]
    /// The session's CSRF token, for the forms that write; nil when not signed in.
    package var csrf: String?
    /// Whether the server has a rules file (without one it raises no alerts).
    package var hasRules: Bool
    /// Recent transitions shown.
    package var recentLimit = 50

    package init(active: [ActiveAlert], recent: [AlertTransition], silences: [SilenceRecord], csrf: String?, hasRules: Bool) {
        self.active = active
        self.recent = recent
        self.silences = silences
        self.csrf = csrf
        self.hasRules = hasRules
    }

    /// One alert pending or firing, as data (the page's JSON form).
    package struct Alert: Encodable, Sendable {
        package var id: UInt64
        package var rule: String
        package var target: String
        package var hop: Int?
        package var state: String
        package var severity: String
        package var since: String
        package var fired: String?
        package var acknowledged: Bool
        package var value: Double?
        package var summary: String?
        /// The diff page of the path change that raised it, when it is one.
        package var diff: String?
        package var evidence: AlertEvidence?
    }

    package struct Transition: Encodable, Sendable {
        package var id: UInt64
        package var time: String
        package var state: String
        package var rule: String
        package var target: String
        package var hop: Int?
        package var severity: String
    }

    package struct Silence: Encodable, Sendable {
        package var id: UInt64
        package var matchers: [String: String]
        package var starts: String
        package var ends: String
        package var author: String
        package var comment: String
    }

    package struct Data: Encodable, Sendable {
        package var active: [Alert]
        package var recent: [Transition]
        package var silences: [Silence]
    }

    /// The diff page of a path change's evidence.
    static func diffLink(target: String, evidence: AlertEvidence?) -> String? {
        guard let old = evidence?.oldPathID, let new = evidence?.newPathID else { return nil }
        return "/diff?target=\(PagePath.escapeComponent(target))&old=\(old)&new=\(new)"
    }

    package func data() -> Data {
        Data(
            active: active.map { a in
                let evidence = a.evidence.isEmpty ? nil : try? JSONDecoder().decode(AlertEvidence.self, from: Foundation.Data(a.evidence.utf8))
                return Alert(id: a.id, rule: a.key.rule, target: a.key.target, hop: a.key.hop == 0 ? nil : a.key.hop, state: a.state.description,
                             severity: a.severity.rawValue, since: RFC3339.format(micros: a.sinceMicros), fired: a.firedMicros.map { RFC3339.format(micros: $0) },
                             acknowledged: a.acknowledged, value: a.value.isNaN ? nil : a.value, summary: a.annotations["summary"],
                             diff: AlertsPage.diffLink(target: a.key.target, evidence: evidence), evidence: evidence)
            },
            recent: recent.suffix(recentLimit).reversed().map { t in
                Transition(id: t.alertID, time: RFC3339.format(micros: t.timeMicros), state: t.state.description, rule: t.rule, target: t.target,
                           hop: t.hop == 0 ? nil : Int(t.hop), severity: t.severity)
            },
            silences: silences.map { s in
                Silence(id: s.id, matchers: s.matchers, starts: RFC3339.format(micros: s.startsMicros), ends: RFC3339.format(micros: s.endsMicros),
                        author: s.author, comment: s.comment)
            })
    }

    /// Silence durations the page offers.
    static let silenceDurations = ["1h", "4h", "1d", "7d"]

    package func model() -> [String: Any] {
        let data = data()
        func number(_ v: Double?) -> String { v.map { ChartNumber.format($0) } ?? "–" }
        let alerts: [[String: Any]] = data.active.map { a in
            var m: [String: Any] = [
                "id": a.id, "rule": a.rule, "target": a.target, "targetHref": "/targets/" + PagePath.escape(a.target),
                "hop": a.hop.map(String.init) ?? "", "hasHop": a.hop != nil, "state": a.state, "severity": a.severity,
                "since": a.since, "fired": a.fired ?? "", "acknowledged": a.acknowledged, "value": number(a.value),
                "summary": a.summary ?? "", "diff": a.diff ?? "", "hasDiff": a.diff != nil,
                "durations": AlertsPage.silenceDurations.map { ["duration": $0] },
            ]
            m["hasVerdict"] = !(a.evidence?.verdict ?? [:]).isEmpty
            m["hasDiffRows"] = (a.evidence?.diff ?? []).contains { $0.change != "same" }
            m["hasHops"] = !(a.evidence?.hops ?? []).isEmpty
            if let e = a.evidence {
                m["kind"] = e.kind
                m["verdict"] = (e.verdict ?? [:]).sorted { $0.key < $1.key }.map { key, c -> [String: Any] in
                    ["criterion": key, "before": number(c.before), "after": number(c.after), "verdict": c.verdict]
                }
                m["diffRows"] = (e.diff ?? []).filter { $0.change != "same" }.map { r -> [String: Any] in
                    ["ttl": r.ttl, "old": r.old, "new": r.new, "change": r.change]
                }
                m["hops"] = (e.hops ?? []).map { h -> [String: Any] in
                    ["ttl": h.ttl, "address": h.address, "medianBefore": number(h.medianBeforeMillis), "medianNow": number(h.medianNowMillis),
                     "lossBefore": number(h.lossBeforePercent), "lossNow": number(h.lossNowPercent)]
                }
            }
            return m
        }
        return [
            "title": "Alerts", "hasRules": hasRules, "signedIn": csrf != nil, "csrf": csrf ?? "",
            "alerts": alerts, "noAlerts": alerts.isEmpty,
            "recent": data.recent.map { t -> [String: Any] in
                ["time": t.time, "state": t.state, "rule": t.rule, "target": t.target, "targetHref": "/targets/" + PagePath.escape(t.target),
                 "hop": t.hop.map(String.init) ?? "", "severity": t.severity]
            },
            "hasRecent": !data.recent.isEmpty,
            "silences": data.silences.map { s -> [String: Any] in
                ["id": s.id, "matchers": s.matchers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "),
                 "ends": s.ends, "author": s.author, "comment": s.comment]
            },
            "hasSilences": !data.silences.isEmpty,
        ]
    }
}

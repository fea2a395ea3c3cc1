import Alerting
import Foundation
import HTTPTypes
import PathTSDB
import Probe

// The API's answers are the types swift-openapi-generator made from openapi.yaml's schemas
// (Generated/, `scripts/generate-openapi`); these are the conversions from the server's own.

typealias Schemas = Components.Schemas

extension Schemas.Target {
    init(_ t: ScheduledTarget) {
        self.init(name: t.name, address: t.address.text, tool: t.tool.rawValue, method: t.settings.method.description,
                  hopMetrics: t.hopMetrics, intervalS: Double(t.intervalMicros) / 1e6, probes: t.settings.probesPerHop,
                  firstTtl: t.settings.firstTTL, maxTtl: t.settings.maxTTL, tags: t.tags)
    }

    init(_ t: ScheduledTarget?) throws {
        guard let t else { throw APIError(.internalServerError, "the target was written but is not in the reloaded file") }
        self.init(t)
    }
}

extension Schemas.Alert {
    /// - Throws: `APIError` when the stored evidence is not the JSON the engine writes.
    init(_ a: ActiveAlert) throws {
        let evidence: Schemas.Evidence?
        do {
            evidence = a.evidence.isEmpty ? nil : try JSONDecoder().decode(Schemas.Evidence.self, from: Data(a.evidence.utf8))
        } catch {
            throw APIError(.internalServerError, "alert \(a.id): its evidence does not read as the Evidence schema: \(error)")
        }
        self.init(id: Int(clamping: a.id), state: a.state == .firing ? .firing : .pending, rule: a.key.rule, target: a.key.target,
                  hop: a.key.hop == 0 ? nil : a.key.hop, severity: Schemas.Alert.SeverityPayload(a.severity),
                  since: APIDate.date(micros: a.sinceMicros), firedAt: a.firedMicros.map(APIDate.date(micros:)),
                  acknowledged: a.acknowledged, labels: .init(additionalProperties: a.labels),
                  annotations: .init(additionalProperties: a.annotations), evidence: evidence)
    }
}

extension Schemas.Alert.SeverityPayload {
    init(_ s: Severity) {
        switch s {
        case .info: self = .info
        case .warning: self = .warning
        case .critical: self = .critical
        }
    }
}

extension Schemas.Transition {
    init(_ t: AlertTransition) {
        let state: StatePayload = switch t.state {
        case .pending: .pending
        case .firing: .firing
        case .resolved: .resolved
        case .blip: .blip
        case .cancelled: .cancelled
        }
        self.init(alertId: Int(clamping: t.alertID), time: APIDate.date(micros: t.timeMicros), state: state, rule: t.rule,
                  target: t.target, hop: t.hop == 0 ? nil : Int(t.hop), severity: t.severity,
                  annotations: .init(additionalProperties: t.annotations))
    }
}

extension Schemas.Rule {
    init(_ r: AlertRule) {
        self.init(name: r.name, kind: r.condition.kind, severity: r.severity.rawValue, pending: r.pending.description,
                  targets: r.selection.targets, groups: r.selection.groups, tags: r.selection.tags,
                  labels: .init(additionalProperties: r.labels))
    }
}

extension Schemas.Silence {
    init(_ s: SilenceRecord) {
        self.init(id: Int(clamping: s.id), matchers: .init(additionalProperties: s.matchers), startsAt: APIDate.date(micros: s.startsMicros),
                  endsAt: APIDate.date(micros: s.endsMicros), comment: s.comment, author: s.author)
    }
}

extension Schemas.Receiver {
    init(_ r: ReceiverConfig, counts: Outbox.Counts?) {
        let kind: KindPayload = switch r.kind {
        case .webhook: .webhook
        case .alertmanager: .alertmanager
        case .program: .program
        case .email: .email
        case .syslog: .syslog
        }
        self.init(name: r.name, kind: kind, delivered: counts?.delivered ?? 0, failedAttempts: counts?.failedAttempts ?? 0,
                  expired: counts?.expired ?? 0, waiting: counts?.waiting ?? 0, lastError: counts?.lastError)
    }
}

/// The API's `date-time` fields: RFC 3339 in UTC, with microseconds when there are any (as the
/// store keeps time), in and out.
enum APIDate {
    static func date(micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1e6) }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1e6).rounded()) }

    static func encode(_ date: Date, to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(RFC3339.format(micros: micros(date)))
    }

    static func decode(from decoder: any Decoder) throws -> Date {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let m = RFC3339.parse(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an RFC 3339 time such as 2026-12-07T10:00:00Z, not \"\(text)\"")
        }
        return date(micros: m)
    }
}

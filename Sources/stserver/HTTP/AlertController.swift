import Alerting
import Foundation
import Hummingbird
import PathTSDB

/// Alerts, rules, silences and receivers through the API.
struct AlertController: Sendable {
    let rules: RuleSet?
    let settings: ServerSettings

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.reads.get("alerts") { _, _ in
            try jsonResponse(try engine().activeAlerts.map(AlertView.init))
        }
        routes.reads.get("alerts/history") { request, _ in
            let limit = Int(try FormParameters(request)["limit"] ?? "1000") ?? 1000
            return try jsonResponse(try engine().transitions(limit: max(1, min(limit, 10_000))).map(TransitionView.init))
        }
        routes.writes.post("alerts/:id/ack") { request, context in
            guard let id = context.parameters.get("id", as: UInt64.self) else { throw APIError(.badRequest, "the alert id must be a number") }
            let body = try await RequestJSON.decode(AckBody.self, from: request, limit: settings.maxBodyBytes)
            try engine().acknowledge(alertID: id, author: body.author ?? "api", comment: body.comment ?? "")
            return Response(status: .noContent)
        }
        routes.reads.get("rules") { _, _ in
            try jsonResponse(try engine().rules.rules.map(RuleView.init))
        }
        // Rules are written back to the rules file; the body is one rule as the file writes
        // it, in JSON (or YAML).
        routes.writes.post("rules") { request, _ in
            let text = try await body(request)
            let rule = try await ruleSet().edit { try $0.add(text) }
            return try jsonResponse(RuleView(rule), status: .created)
        }
        routes.writes.put("rules/**") { request, context in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            let text = try await body(request)
            let rule = try await ruleSet().edit { try $0.replace(name, with: text) }
            return try jsonResponse(RuleView(rule))
        }
        routes.writes.delete("rules/**") { _, context in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            try await ruleSet().edit { try $0.remove(name) }
            return Response(status: .noContent)
        }
        routes.reads.get("silences") { _, _ in
            try jsonResponse(try engine().silences.map(SilenceView.init))
        }
        routes.writes.post("silences") { request, _ in
            let body = try await RequestJSON.decode(SilenceBody.self, from: request, limit: settings.maxBodyBytes)
            let now = WallClock.nowMicros()
            let starts = try body.startsAt.map { text -> Int64 in
                guard let t = RFC3339.parse(text) else { throw APIError(.badRequest, "starts_at: expected an RFC 3339 time") }
                return t
            } ?? now
            let ends: Int64
            if let text = body.endsAt {
                guard let t = RFC3339.parse(text) else { throw APIError(.badRequest, "ends_at: expected an RFC 3339 time") }
                ends = t
            } else if let d = body.duration {
                guard let micros = DurationText.parseMicros(d), micros > 0 else { throw APIError(.badRequest, "duration: expected a duration such as 2h") }
                ends = starts + micros
            } else {
                throw APIError(.badRequest, "a silence needs ends_at or duration")
            }
            let s = try engine().silence(matchers: body.matchers, startsMicros: starts, endsMicros: ends, comment: body.comment ?? "",
                                         author: body.author ?? "api")
            return try jsonResponse(SilenceView(s), status: .created)
        }
        routes.writes.delete("silences/:id") { _, context in
            guard let id = context.parameters.get("id", as: UInt64.self) else { throw APIError(.badRequest, "the silence id must be a number") }
            try engine().removeSilence(id)
            return Response(status: .noContent)
        }
        routes.reads.get("receivers") { _, _ in
            let e = try engine()
            let counts = e.outbox.counts
            return try jsonResponse(e.rules.receivers.map { r in
                ReceiverView(name: r.name, kind: ReceiverView.kind(r.kind), delivered: counts[r.name]?.delivered ?? 0,
                             failedAttempts: counts[r.name]?.failedAttempts ?? 0, expired: counts[r.name]?.expired ?? 0,
                             waiting: counts[r.name]?.waiting ?? 0, lastError: counts[r.name]?.lastError)
            })
        }
    }

    private func engine() throws -> AlertEngine { try ruleSet().engine }

    private func ruleSet() throws -> RuleSet {
        guard let rules else { throw APIError(.conflict, "the server has no rules file: start it with --rules FILE to raise alerts") }
        return rules
    }

    private func body(_ request: Request) async throws -> String {
        String(buffer: try await request.body.collect(upTo: settings.maxBodyBytes))
    }
}

struct AckBody: Decodable {
    var author: String?
    var comment: String?
}

struct SilenceBody: Decodable {
    var matchers: [String: String]
    var startsAt: String?
    var endsAt: String?
    var duration: String?
    var comment: String?
    var author: String?

    enum CodingKeys: String, CodingKey {
        case matchers, duration, comment, author
        case startsAt = "starts_at", endsAt = "ends_at"
    }
}

struct AlertView: Encodable {
    var id: UInt64
    var state: String
    var rule: String
    var target: String
    var hop: Int?
    var severity: String
    var since: String
    var firedAt: String?
    var acknowledged: Bool
    var labels: [String: String]
    var annotations: [String: String]
    var evidence: AlertEvidence?

    enum CodingKeys: String, CodingKey {
        case id, state, rule, target, hop, severity, since, acknowledged, labels, annotations, evidence
        case firedAt = "fired_at"
    }

    init(_ a: ActiveAlert) {
        id = a.id
        state = a.state.description
        rule = a.key.rule
        target = a.key.target
        hop = a.key.hop == 0 ? nil : a.key.hop
        severity = a.severity.rawValue
        since = RFC3339.format(micros: a.sinceMicros)
        firedAt = a.firedMicros.map { RFC3339.format(micros: $0) }
        acknowledged = a.acknowledged
        labels = a.labels
        annotations = a.annotations
        evidence = a.evidence.isEmpty ? nil : try? JSONDecoder().decode(AlertEvidence.self, from: Data(a.evidence.utf8))
    }
}

struct TransitionView: Encodable {
    var alertID: UInt64
    var time: String
    var state: String
    var rule: String
    var target: String
    var hop: Int?
    var severity: String
    var annotations: [String: String]

    enum CodingKeys: String, CodingKey {
        case time, state, rule, target, hop, severity, annotations
        case alertID = "alert_id"
    }

    init(_ t: AlertTransition) {
        alertID = t.alertID
        time = RFC3339.format(micros: t.timeMicros)
        state = t.state.description
        rule = t.rule
        target = t.target
        hop = t.hop == 0 ? nil : Int(t.hop)
        severity = t.severity
        annotations = t.annotations
    }
}

struct RuleView: Encodable {
    var name: String
    var kind: String
    var severity: String
    var pending: String
    var targets: [String]
    var groups: [String]
    var tags: [String]
    var labels: [String: String]

    init(_ r: AlertRule) {
        name = r.name
        kind = r.condition.kind
        severity = r.severity.rawValue
        pending = r.pending.description
        targets = r.selection.targets
        groups = r.selection.groups
        tags = r.selection.tags
        labels = r.labels
    }
}

struct SilenceView: Encodable {
    var id: UInt64
    var matchers: [String: String]
    var startsAt: String
    var endsAt: String
    var comment: String
    var author: String

    enum CodingKeys: String, CodingKey {
        case id, matchers, comment, author
        case startsAt = "starts_at", endsAt = "ends_at"
    }

    init(_ s: SilenceRecord) {
        id = s.id
        matchers = s.matchers
        startsAt = RFC3339.format(micros: s.startsMicros)
        endsAt = RFC3339.format(micros: s.endsMicros)
        comment = s.comment
        author = s.author
    }
}

struct ReceiverView: Encodable {
    var name: String
    var kind: String
    var delivered: Int
    var failedAttempts: Int
    var expired: Int
    var waiting: Int
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case name, kind, delivered, expired, waiting
        case failedAttempts = "failed_attempts", lastError = "last_error"
    }

    static func kind(_ k: ReceiverConfig.Kind) -> String {
        switch k {
        case .webhook: "webhook"
        case .alertmanager: "alertmanager"
        case .program: "program"
        case .email: "email"
        case .syslog: "syslog"
        }
    }
}

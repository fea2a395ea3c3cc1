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
            try jsonResponse(try engine().activeAlerts.map(Schemas.Alert.init))
        }
        routes.reads.get("alerts/history") { request, _ in
            let limit = Int(try FormParameters(request)["limit"] ?? "1000") ?? 1000
            return try jsonResponse(try engine().transitions(limit: max(1, min(limit, 10_000))).map(Schemas.Transition.init))
        }
        routes.writes.post("alerts/:id/ack") { request, context in
            guard let id = context.parameters.get("id", as: UInt64.self) else { throw APIError(.badRequest, "the alert id must be a number") }
            let body = try await RequestJSON.decode(Schemas.Acknowledgement.self, from: request, limit: settings.maxBodyBytes)
            try engine().acknowledge(alertID: id, author: body.author ?? "api", comment: body.comment ?? "")
            return Response(status: .noContent)
        }
        routes.reads.get("rules") { _, _ in
            try jsonResponse(try engine().rules.rules.map(Schemas.Rule.init))
        }
        // Rules are written back to the rules file; the body is one rule as the file writes
        // it, in JSON (or YAML).
        routes.writes.post("rules") { request, _ in
            let text = try await body(request)
            let rule = try await ruleSet().edit { try $0.add(text) }
            return try jsonResponse(Schemas.Rule(rule), status: .created)
        }
        routes.writes.put("rules/**") { request, context in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            let text = try await body(request)
            let rule = try await ruleSet().edit { try $0.replace(name, with: text) }
            return try jsonResponse(Schemas.Rule(rule))
        }
        routes.writes.delete("rules/**") { _, context in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            try await ruleSet().edit { try $0.remove(name) }
            return Response(status: .noContent)
        }
        routes.reads.get("silences") { _, _ in
            try jsonResponse(try engine().silences.map(Schemas.Silence.init))
        }
        routes.writes.post("silences") { request, _ in
            let body = try await RequestJSON.decode(Schemas.SilenceRequest.self, from: request, limit: settings.maxBodyBytes)
            let starts = body.startsAt.map(APIDate.micros) ?? WallClock.nowMicros()
            let ends: Int64
            if let end = body.endsAt {
                ends = APIDate.micros(end)
            } else if let d = body.duration {
                guard let micros = DurationText.parseMicros(d), micros > 0 else { throw APIError(.badRequest, "duration: expected a duration such as 2h") }
                ends = starts + micros
            } else {
                throw APIError(.badRequest, "a silence needs ends_at or duration")
            }
            let s = try engine().silence(matchers: body.matchers.additionalProperties, startsMicros: starts, endsMicros: ends, comment: body.comment ?? "",
                                         author: body.author ?? "api")
            return try jsonResponse(Schemas.Silence(s), status: .created)
        }
        routes.writes.delete("silences/:id") { _, context in
            guard let id = context.parameters.get("id", as: UInt64.self) else { throw APIError(.badRequest, "the silence id must be a number") }
            try engine().removeSilence(id)
            return Response(status: .noContent)
        }
        routes.reads.get("receivers") { _, _ in
            let e = try engine()
            let counts = e.outbox.counts
            return try jsonResponse(e.rules.receivers.map { Schemas.Receiver($0, counts: counts[$0.name]) })
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

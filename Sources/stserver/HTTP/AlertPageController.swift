import Alerting
import Foundation
import Hummingbird
import NIOCore
import PathTSDB
import WebUI

/// The alerts page and what it writes: `GET /alerts` (as JSON too), the sign-in form at
/// `/login`, `POST /logout`, and the forms `POST /alerts/{id}/ack` and `POST /alerts/{id}/silence`,
/// each checked for its session and CSRF token (`WebSession`), each answering 303 back to the
/// page, as a form without JavaScript expects.
struct AlertPageController: Sendable {
    let rules: RuleSet?
    let settings: ServerSettings
    let renderer: PageRenderer
    let session: WebSession

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.rootReads.get("alerts") { request, _ in
            let params = try FormParameters(request)
            let form = try WebController.Form(request, params)
            let token = WebSession.token(of: request, settings: settings)
            let engine = rules?.engine
            let page = AlertsPage(active: engine?.activeAlerts ?? [], recent: engine?.transitions(limit: 200) ?? [], silences: engine?.silences ?? [],
                                  csrf: token.map { session.csrf(for: $0) }, hasRules: engine != nil)
            switch form {
            case .json: return WebController.json(try PageJSON.encode(page.data()))
            // Not cached: it holds the session's CSRF token, and alerts change without a new URL.
            case .html: return WebController.html(.ok, renderer.render("alerts", page.model()), headers: [.cacheControl: "no-store"])
            }
        }
        routes.rootOpen.get("login") { request, _ in
            let params = try FormParameters(request)
            return loginPage(.ok, next: params["next"], message: settings.tokens.isEmpty
                ? "This server has no API token (start it with --token-file), so nobody can sign in." : nil)
        }
        routes.rootOpen.post("login") { request, _ in
            let form = try await fields(request)
            let next = Self.localPath(form["next"])
            guard let given = form["token"],
                  settings.tokens.contains(where: { AccessMiddleware<Context>.equalInConstantTime($0, Substring(given)) }) else {
                return loginPage(.unauthorized, next: next, message: "That is not one of this server's API tokens.")
            }
            return Response(status: .seeOther, headers: [.location: next, .setCookie: WebSession.signIn(given), .cacheControl: "no-store"])
        }
        routes.rootOpen.post("logout") { request, _ in
            _ = try session.authorizeForm(request, form: try await fields(request), settings: settings)
            return Response(status: .seeOther, headers: [.location: "/alerts", .setCookie: WebSession.signOut])
        }
        routes.rootOpen.post("alerts/:id/ack") { request, context in
            let form = try await fields(request)
            _ = try session.authorizeForm(request, form: form, settings: settings)
            let id = try alertID(context)
            do {
                try engine().acknowledge(alertID: id, author: "web", comment: form["comment"] ?? "")
            } catch {
                throw APIError.from(error)
            }
            return Response(status: .seeOther, headers: [.location: "/alerts"])
        }
        routes.rootOpen.post("alerts/:id/silence") { request, context in
            let form = try await fields(request)
            _ = try session.authorizeForm(request, form: form, settings: settings)
            let id = try alertID(context)
            let engine = try engine()
            guard let alert = engine.activeAlerts.first(where: { $0.id == id }) else { throw APIError(.notFound, "no pending or firing alert \(id)") }
            guard let duration = form["duration"], let micros = DurationText.parseMicros(duration), micros > 0 else {
                throw APIError(.badRequest, "duration: expected a duration such as 4h")
            }
            let now = WallClock.nowMicros()
            do {
                _ = try engine.silence(matchers: ["rule": alert.key.rule, "target": alert.key.target], startsMicros: now, endsMicros: now + micros,
                                       comment: form["comment"] ?? "silenced from the alerts page", author: "web")
            } catch {
                throw APIError.from(error)
            }
            return Response(status: .seeOther, headers: [.location: "/alerts"])
        }
    }

    private func engine() throws -> AlertEngine {
        guard let engine = rules?.engine else { throw APIError(.conflict, "the server has no rules file: start it with --rules FILE to raise alerts") }
        return engine
    }

    private func alertID(_ context: some RequestContext) throws -> UInt64 {
        guard let id = context.parameters.get("id", as: UInt64.self) else { throw APIError(.badRequest, "the alert id must be a number") }
        return id
    }

    private func fields(_ request: Request) async throws -> FormParameters {
        let body = try await request.body.collect(upTo: min(settings.maxBodyBytes, 64 * 1024))
        return try FormParameters(encoded: Substring(String(buffer: body)))
    }

    /// Where to go after signing in: a path on this server, never another site (`//host`).
    static func localPath(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"),
              next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return "/alerts" }
        return next
    }

    private func loginPage(_ status: HTTPResponse.Status, next: String?, message: String?) -> Response {
        WebController.html(status, renderer.render("login", ["title": "Sign in", "next": Self.localPath(next), "message": message ?? ""]), headers: [.cacheControl: "no-store"])
    }

}

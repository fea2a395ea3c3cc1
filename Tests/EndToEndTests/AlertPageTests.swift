import Foundation
import Testing

/// The alerts page from a running server: what it shows, signing in with a token into an
/// HttpOnly, SameSite=Strict cookie, and the forms that acknowledge and silence, each refused
/// without the session's CSRF token or from another origin.
@Suite struct AlertPageTests {
    static let token = ServerTests.token

    /// Signs in; returns the `Cookie` header value and the CSRF token of the page's forms.
    static func signIn(_ server: ServerTests.Running) async throws -> (cookie: String, csrf: String) {
        let answer = try await http("POST", server.base.api("/login"), body: Data("token=\(token)&next=%2Falerts".utf8),
                                    headers: ["Content-Type": "application/x-www-form-urlencoded"], followRedirects: false)
        #expect(answer.status == 303 && answer.header("Location") == "/alerts")
        let setCookie = try #require(answer.header("Set-Cookie"))
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"), "\(setCookie)")
        let cookie = String(setCookie.prefix { $0 != ";" })
        let page = try await http("GET", server.base.api("/alerts"), headers: ["Cookie": cookie]).text
        let csrf = try #require(page.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }) })
        #expect(csrf.count == 64)
        return (cookie, csrf)
    }

    static func form(_ fields: [(String, String)]) -> Data {
        Data(fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&").utf8)
    }

    @Test func theAlertIsShownAndSignedInItIsAcknowledgedAndSilenced() async throws {
        let server = try ServerTests.Running(rules: ServerTests.unreachableRule)
        defer { server.finish() }
        let id = try await ServerTests.firingAlert(server)

        // Anyone may read it; without a session, no form, a link to sign in.
        let anonymous = try await http("GET", server.base.api("/alerts"))
        #expect(anonymous.status == 200 && anonymous.text.contains("<h3 id=\"alert-\(id)\">unreachable · <a href=\"/targets/lab/x\">lab/x</a>"), "\(anonymous.text)")
        #expect(anonymous.text.contains("<strong>firing</strong>, critical") && anonymous.text.contains("href=\"/login?next=/alerts\""))
        #expect(!anonymous.text.contains("<form method=\"post\" action=\"/alerts/"))
        #expect(anonymous.text.contains("<td>firing</td><td>unreachable</td>"))   // the recent transitions
        let data = try #require(try await http("GET", server.base.api("/alerts", [("format", "json")])).json() as? [String: Any])
        let active = try #require(data["active"] as? [[String: Any]])
        #expect(active.first?["rule"] as? String == "unreachable" && active.first?["acknowledged"] as? Bool == false)

        // Signing in: a wrong token is refused on the form; a next= elsewhere is not followed.
        let login = try await http("GET", server.base.api("/login", [("next", "/alerts")]))
        #expect(login.status == 200 && login.text.contains("type=\"password\" name=\"token\""))
        let wrong = try await http("POST", server.base.api("/login"), body: Self.form([("token", "nope"), ("next", "/alerts")]), followRedirects: false)
        #expect(wrong.status == 401 && wrong.text.contains("That is not one of this server&#39;s API tokens."), "\(wrong.text)")
        let away = try await http("POST", server.base.api("/login"), body: Self.form([("token", Self.token), ("next", "//evil.example/")]), followRedirects: false)
        #expect(away.status == 303 && away.header("Location") == "/alerts")
        let (cookie, csrf) = try await Self.signIn(server)
        let signedIn = try await http("GET", server.base.api("/alerts"), headers: ["Cookie": cookie]).text
        #expect(signedIn.contains("<form method=\"post\" action=\"/alerts/\(id)/ack\">") && signedIn.contains("action=\"/alerts/\(id)/silence\""))

        // The forms: refused without a session, without or with another CSRF token, or from
        // another origin; the API never takes the cookie.
        let ack = server.base.api("/alerts/\(id)/ack")
        let noSession = try await http("POST", ack, body: Self.form([("csrf", csrf)]), followRedirects: false)
        #expect(noSession.status == 401)
        #expect(try await http("POST", ack, body: Self.form([("comment", "x")]), headers: ["Cookie": cookie], followRedirects: false).status == 403)
        #expect(try await http("POST", ack, body: Self.form([("csrf", String(repeating: "0", count: 64))]), headers: ["Cookie": cookie],
                               followRedirects: false).status == 403)
        let crossSite = try await http("POST", ack, body: Self.form([("csrf", csrf)]), headers: ["Cookie": cookie, "Origin": "http://evil.example"],
                                       followRedirects: false)
        #expect(crossSite.status == 403 && crossSite.text.contains("another origin"))
        #expect(try await http("POST", server.base.api("/api/v1/alerts/\(id)/ack"), body: Data("{}".utf8), headers: ["Cookie": cookie]).status == 401)
        let stillUnacknowledged = try await http("GET", server.base.api("/api/v1/alerts")).json() as? [[String: Any]]
        #expect(stillUnacknowledged?.first?["acknowledged"] as? Bool != true)

        // With all three, from this origin: done, and back to the page.
        let done = try await http("POST", ack, body: Self.form([("csrf", csrf), ("comment", "on it")]),
                                  headers: ["Cookie": cookie, "Origin": server.base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/"))],
                                  followRedirects: false)
        #expect(done.status == 303 && done.header("Location") == "/alerts", "\(done.status) \(done.text)")
        let alerts = try await http("GET", server.base.api("/api/v1/alerts")).json() as? [[String: Any]]
        #expect(alerts?.first?["acknowledged"] as? Bool == true, "\(String(describing: alerts))")
        let silenced = try await http("POST", server.base.api("/alerts/\(id)/silence"), body: Self.form([("csrf", csrf), ("duration", "4h")]),
                                      headers: ["Cookie": cookie], followRedirects: false)
        #expect(silenced.status == 303)
        let silences = try await http("GET", server.base.api("/api/v1/silences")).json() as? [[String: Any]]
        let matchers = silences?.first?["matchers"] as? [String: String]
        #expect(matchers == ["rule": "unreachable", "target": "lab/x"] && silences?.first?["author"] as? String == "web", "\(String(describing: silences))")
        let page = try await http("GET", server.base.api("/alerts"), headers: ["Cookie": cookie]).text
        #expect(page.contains(", acknowledged") && page.contains("<td>rule=unreachable, target=lab/x</td>"))

        // Signing out clears the cookie (its own CSRF token needed too).
        #expect(try await http("POST", server.base.api("/logout"), body: Data(), headers: ["Cookie": cookie], followRedirects: false).status == 403)
        let out = try await http("POST", server.base.api("/logout"), body: Self.form([("csrf", csrf)]), headers: ["Cookie": cookie], followRedirects: false)
        #expect(out.status == 303 && out.header("Set-Cookie")?.contains("Max-Age=0") == true)
    }

    /// With private reads, the pages take the session cookie as the token; the API does not.
    @Test func privateReadsTakeTheSessionOnPagesOnly() async throws {
        let server = try ServerTests.Running(["--private-reads"])
        defer { server.finish() }
        #expect(try await http("GET", server.base.api("/alerts")).status == 401)
        #expect(try await http("GET", server.base.api("/login")).status == 200)
        let (cookie, _) = try await Self.signIn(server)
        #expect(try await http("GET", server.base.api("/targets"), headers: ["Cookie": cookie]).status == 200)
        #expect(try await http("GET", server.base.api("/api/v1/targets"), headers: ["Cookie": cookie]).status == 401)
        #expect(try await http("GET", server.base.api("/alerts"), headers: ["Cookie": "smoketrace_session=not-a-token"]).status == 401)
    }

    /// A page's queries are bounded by the server's query timeout, as the API's are: past it,
    /// 503 with a page that says so (a month's report of every target must not tie up the server).
    @Test func aPagePastTheQueryTimeoutIs503() async throws {
        let server = try ServerTests.Running(["--query-timeout", "0s"])
        defer { server.finish() }
        _ = try await http("POST", server.base.api("/api/v1/runs"), body: ServerTests.json("lab/a", ServerTests.runs("lab/a", count: 3)),
                           token: ServerTests.token)
        let week = [("period", "week"), ("end", "2026-11-21T00:00:00Z")]  // lab/a's runs are of 2026-11-20
        for (path, query) in [("/targets", []), ("/targets/lab/a", [("range", "30d")]), ("/reports", week)] {
            let answer = try await http("GET", server.base.api(path, query))
            #expect(answer.status == 503 && answer.text.contains("ran past the server&#39;s query timeout"), "\(path): \(answer.status)")
        }
        let json = try await http("GET", server.base.api("/reports", week + [("format", "json")]))
        #expect(json.status == 503 && json.header("Content-Type") == "application/json")
    }
}

import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// A browser signed in with an API token: the token is kept in a cookie (HttpOnly, so no
/// script reads it; SameSite=Strict, so no other site's page makes the browser send it), and
/// every form that writes carries a CSRF token: an HMAC of the session's token under a key the
/// server draws at start, which a page of another origin cannot know. The API never takes the
/// cookie: only the web pages do.
struct WebSession: Sendable {
    static let cookieName = "smoketrace_session"

    /// The server's key for CSRF tokens, new at every start (signing in again after a restart
    /// is the price of keeping it out of every file).
    let key: SymmetricKey

    init() { key = SymmetricKey(size: .bits256) }

    /// The CSRF token of a session's API token.
    func csrf(for token: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(("csrf:" + token).utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// The request's session token when the cookie holds one of the server's tokens.
    static func token(of request: Request, settings: ServerSettings) -> String? {
        guard let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0] == cookieName, let value = String(pair[1]).removingPercentEncoding else { continue }
            for token in settings.tokens where AccessMiddleware<BasicRequestContext>.equalInConstantTime(token, Substring(value)) { return token }
        }
        return nil
    }

    /// The `Set-Cookie` value that signs a browser in with `token`.
    static func signIn(_ token: String) -> String {
        let value = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return "\(cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict"
    }

    /// The `Set-Cookie` value that signs it out.
    static let signOut = "\(cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    /// Checks a form that writes: a session, its CSRF token in the form, and a request that does
    /// not say it came from another site (`Sec-Fetch-Site`, `Origin`).
    /// - Returns: the session's token.
    /// - Throws: 401 without a session, 403 for a CSRF token that does not match or a request
    ///   from another origin.
    func authorizeForm(_ request: Request, form: FormParameters, settings: ServerSettings) throws -> String {
        guard let token = WebSession.token(of: request, settings: settings) else {
            throw APIError(.unauthorized, "sign in first (/login): this form needs a session")
        }
        if let name = HTTPField.Name("Sec-Fetch-Site"), let site = request.headers[name], !["same-origin", "none"].contains(site) {
            throw APIError(.forbidden, "a form from another site (Sec-Fetch-Site: \(site)) is refused")
        }
        if let name = HTTPField.Name("Origin"), let origin = request.headers[name], origin != "null" {
            let authority = request.head.authority ?? ""
            guard origin == "http://" + authority || origin == "https://" + authority else {
                throw APIError(.forbidden, "a form from another origin (\(origin)) is refused")
            }
        }
        guard let given = form["csrf"], AccessMiddleware<BasicRequestContext>.equalInConstantTime(csrf(for: token), Substring(given)) else {
            throw APIError(.forbidden, "the form's CSRF token is missing or not this session's: load the page again")
        }
        return token
    }
}

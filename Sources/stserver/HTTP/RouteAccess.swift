import HTTPTypes
import Hummingbird

/// Who may call a route. Every API route is added to the group of its access level, so a route
/// cannot be added without that decision being made.
enum RouteAccess: Sendable {
    /// Anyone, always: the service description and health.
    case open
    /// Anyone, unless the server keeps reads private (`--private-reads`).
    case read
    /// Token holders only: anything that changes the store, the targets or the rules.
    case write
}

/// The router's groups by access level, handed to each controller's `addRoutes(to:)`.
struct APIRoutes<Context: RequestContext> {
    /// The routes under `/api/v1` anyone may call.
    let open: RouterGroup<Context>
    /// The routes under `/api/v1` that read.
    let reads: RouterGroup<Context>
    /// The routes under `/api/v1` that write or administer.
    let writes: RouterGroup<Context>
    /// Reads outside `/api/v1` (`/metrics`, the web pages): a browser signed in at `/login`
    /// reads them with its session cookie when reads are private.
    let rootReads: RouterGroup<Context>
    /// Routes outside `/api/v1` anyone may call: the sign-in form, and the web forms that write,
    /// which check the session and its CSRF token themselves (`WebSession`).
    let rootOpen: RouterGroup<Context>

    init(router: Router<Context>, settings: ServerSettings) {
        open = router.group("api/v1")
        reads = router.group("api/v1").add(middleware: AccessMiddleware(access: .read, settings: settings))
        writes = router.group("api/v1").add(middleware: AccessMiddleware(access: .write, settings: settings))
        rootReads = router.group().add(middleware: AccessMiddleware(access: .read, settings: settings, acceptsSession: true))
        rootOpen = router.group()
    }
}

/// Checks the bearer token of a request against the server's tokens, as its route's access
/// level asks.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: RouteAccess
    let settings: ServerSettings
    /// The web pages' reads: the session cookie of a signed-in browser counts as the token.
    /// Never for the API, so that no cookie a browser sends unasked authorizes an API call.
    var acceptsSession = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if !(acceptsSession && access == .read && WebSession.token(of: request, settings: settings) != nil) {
            try Self.authorize(request, access: access, settings: settings)
        }
        return try await next(request, context)
    }

    /// Writes always need a token; reads only when the server keeps them private.
    static func authorize(_ request: Request, access: RouteAccess, settings: ServerSettings) throws {
        switch access {
        case .open: return
        case .read where !settings.privateReads: return
        case .read, .write: break
        }
        guard !settings.tokens.isEmpty else {
            throw APIError(.forbidden, "this server has no API token configured, so it accepts no writes (start it with --token-file)")
        }
        var challenge = APIError(.unauthorized, "this needs a bearer token: send 'Authorization: Bearer TOKEN'")
        challenge.headers[.wwwAuthenticate] = "Bearer realm=\"smoketrace\""
        guard let header = request.headers[.authorization] else { throw challenge }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw challenge }
        var valid = false
        for token in settings.tokens where Self.equalInConstantTime(token, parts[1]) { valid = true }
        guard valid else {
            challenge.message = "the bearer token is not valid"
            challenge.headers[.wwwAuthenticate] = "Bearer realm=\"smoketrace\", error=\"invalid_token\""
            throw challenge
        }
    }

    /// Compares in full, so the time taken says nothing of how much of the token matched.
    static func equalInConstantTime(_ want: String, _ given: Substring) -> Bool {
        let a = Array(want.utf8), b = Array(given.utf8)
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}

import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each route of the router takes, read from the router once its routes are added,
/// so that a path asked with a method it does not take is answered 405 with the ones it does.
final class RouteIndex: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: HTTPRequest.Method)]>([])

    /// Records the routes of `router`; called once, after every controller added its routes.
    func record<Context>(_ router: Router<Context>) {
        let list = router.routes.map { (path: $0.path, method: $0.method) }
        routes.withLock { $0 = list }
    }

    /// Every method some route takes at `path`, sorted; empty when no route matches the path.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let found = routes.withLock { list in list.filter { Self.matches($0.path, parts) }.map(\.method.rawValue) }
        return Set(found).sorted()
    }

    private static func matches(_ route: RouterPath, _ parts: [Substring]) -> Bool {
        var i = 0
        for element in route.components {
            if element.description == "**" { return i < parts.count }
            guard i < parts.count, element ~= parts[i] else { return false }
            i += 1
        }
        return i == parts.count
    }
}

/// Counts every request by route, method and status for `/metrics`, and turns every error into
/// the API's JSON error answer.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let routes: RouteIndex

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code)
            return response
        } catch let page as PageTimeout {
            // A web page's own answer to its timeout (HTML or JSON, as the page was asked).
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: page.status.code)
            return page.response
        } catch {
            // Every failure is answered as JSON with its cause, whatever threw it.
            var mapped = APIError.from(error)
            if let e = error as? HTTPError {
                mapped = APIError(e.status, e.body ?? (e.status == .notFound ? "no such route: \(request.method) \(request.uri.path)" : e.status.reasonPhrase))
                mapped.headers = e.headers
                // A known path asked with a method it does not take: 405, with the ones it does.
                let allowed = routes.methods(for: request.uri.path)
                if e.status == .notFound && !allowed.isEmpty {
                    mapped = APIError(.methodNotAllowed, "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method)")
                    mapped.headers[.allow] = allowed.joined(separator: ", ")
                }
            }
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: mapped.status.code)
            throw mapped
        }
    }
}

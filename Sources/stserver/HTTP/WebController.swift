import Alerting
import Foundation
import Hummingbird
import NIOCore
import PathTSDB
import Probe
import Query
import WebUI

/// The web pages (`Sources/WebUI`), mounted beside the API with the same read access: the list
/// of targets at `/targets`, a target's page at `/targets/NAME` (`?range=3h|1d|7d|30d|1y`, or
/// `from` and `to`), two of its paths side by side at `/diff`. Each page is also its data as
/// JSON: `format=json`, or a request that accepts JSON and not HTML.
struct WebController: Sendable {
    let store: PathStore
    let renderer: PageRenderer
    let settings: ServerSettings
    /// For the console's queries: the targets file's tags, and the alerts the `alerts` kind reads.
    let registry: TargetRegistry
    let alerts: AlertEngine?
    /// Names of hop addresses, looked up in the background; nil with `--reverse-dns off`.
    let names: ReverseNameCache?

    /// The form a page is asked for.
    enum Form {
        case html, json

        init(_ request: Request, _ params: FormParameters) throws(APIError) {
            switch params["format"] {
            case "json": self = .json
            case "html": self = .html
            case nil:
                let accept = request.headers[.accept] ?? ""
                self = accept.contains("application/json") && !accept.contains("text/html") ? .json : .html
            case let other?:
                throw APIError(.badRequest, "format: expected html or json, not \(other)")
            }
        }
    }

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.rootReads.get("targets") { request, _ in
            let params = try FormParameters(request)
            let form = try Form(request, params)
            var page = TargetsPage(filter: params["filter"], onlyChanged: params["changed"] == "1", sort: params["sort"])
            page.deadline = .now + settings.queryTimeout
            let snap = store.snapshot()
            let now = WallClock.nowMicros()
            let body = try await bounded(form) { [renderer, page] in
                form == .json ? try PageJSON.encode(try page.data(snapshot: snap, nowMicros: now))
                              : renderer.render("targets", try page.model(snapshot: snap, nowMicros: now))
            }
            return cacheable(body, form: form, request: request)
        }
        routes.rootReads.get("diff") { request, _ in try await diff(request: request) }
        routes.rootReads.get("console") { request, _ in try await console(request: request) }
        routes.rootReads.get("reports") { request, _ in try await report(request: request) }
        routes.rootReads.get("targets/**") { request, context in
            let params = try FormParameters(request)
            let form = try Form(request, params)
            let encoded = context.parameters.getCatchAll().joined(separator: "/")
            guard let name = encoded.removingPercentEncoding, !name.isEmpty else {
                return failure(.badRequest, "Bad request", "\(encoded) is not a target name", form: form)
            }
            return try await page(target: name, params: params, form: form, request: request)
        }
    }

    /// `/console?q=QUERY&at=TIME`: the query run with the API's bounds (rows, time), its answer
    /// on the page. Not cached: `now` moves.
    private func console(request: Request) async throws -> Response {
        let params = try FormParameters(request)
        let text = params["q"] ?? ""
        guard text.utf8.count <= settings.maxQueryBytes else {
            return failure(.contentTooLarge, "Query too long", "The query is longer than \(settings.maxQueryBytes) bytes.", form: .html)
        }
        let snap = store.snapshot()
        let at = params["at"]
        guard let now = QueryContext.now(at: at ?? "now", snapshot: snap) else {
            return failure(.badRequest, "Bad request", "at=\(at ?? ""): expected now, newest or an RFC 3339 time", form: .html)
        }
        var context = QueryContext(nowMicros: now, tags: registry.path == nil ? nil : registry.tags, maxRows: settings.maxRows,
                                   deadline: .now + settings.queryTimeout)
        context.alerts = alerts?.transitions(limit: AlertEngine.recentLimit)
        let page = ConsolePage(text: text, at: at)
        let body = try await offload { [renderer, context] in renderer.render("console", page.model(snapshot: snap, context: context)) }
        return Self.html(.ok, body, headers: [.cacheControl: "no-store"])
    }

    /// `/reports?group=G&period=day|week|month&rank=…&end=TIME`, as a page, JSON or CSV.
    private func report(request: Request) async throws -> Response {
        var params = try FormParameters(request)
        let csv = params["format"] == "csv"
        if csv { params.remove("format") }
        let form = try Form(request, params)
        let snap = store.snapshot()
        let now = WallClock.nowMicros()
        var page: ReportPage
        do throws(WebUIError) {
            var end = now
            if let text = params["end"] {
                guard let t = RFC3339.parse(text) else { throw WebUIError("end: expected an RFC 3339 time such as 2026-12-07T00:00:00Z") }
                end = t
            }
            page = try ReportPage(group: params["group"], period: params["period"], rank: params["rank"], endMicros: end)
            page.deadline = .now + settings.queryTimeout
        } catch {
            return failure(.badRequest, "Bad request", error.description, form: form)
        }
        let outcome = try await offload { [renderer, page] () throws -> Result<String, QueryError> in
            do {
                if csv { return .success(OutputFormat.csv.render(ReportPage.table(try page.data(snapshot: snap, nowMicros: now)))) }
                return .success(form == .json ? try PageJSON.encode(try page.data(snapshot: snap, nowMicros: now))
                                              : renderer.render("report", try page.model(snapshot: snap, nowMicros: now)))
            } catch let error as QueryError {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let body):
            if csv {
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"report.csv\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
            }
            return cacheable(body, form: form, request: request)
        case .failure(let error) where error.code == .timeout:
            return tooSlow(form)
        case .failure(let error):
            return failure(error.code == .notFound ? .notFound : .badRequest, "Bad request", error.description, form: form)
        }
    }

    /// `/diff?target=NAME&old=ID&new=ID` (range as for a target's page; 30 days by default).
    private func diff(request: Request) async throws -> Response {
        let params = try FormParameters(request)
        let form = try Form(request, params)
        let snap = store.snapshot()
        let now = WallClock.nowMicros()
        guard let target = params["target"], snap.catalog.targetID(named: target) != nil else {
            return failure(.notFound, "Not found", "The store holds no runs of \(params["target"] ?? "(no target= given)").", form: form)
        }
        guard let old = params["old"].flatMap(UInt32.init), let new = params["new"].flatMap(UInt32.init) else {
            return failure(.badRequest, "Bad request", "old= and new= must be path ids (numbers), as the changes list them", form: form)
        }
        let range: PageRange
        do {
            range = try PageRange(range: params["range"] ?? (params["from"] == nil ? "30d" : nil), from: params["from"], to: params["to"], nowMicros: now)
        } catch {
            return failure(.badRequest, "Bad request", error.description, form: form)
        }
        var page = DiffPage(target: target, old: PathID(rawValue: old), new: PathID(rawValue: new), range: range)
        page.deadline = .now + settings.queryTimeout
        let outcome = try await bounded(form) { [renderer, page] () throws -> Result<String, WebUIError> in
            do {
                return .success(form == .json ? try PageJSON.encode(try page.data(snapshot: snap, nowMicros: now))
                                              : renderer.render("diff", try page.model(snapshot: snap, nowMicros: now)))
            } catch let error as WebUIError {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let body): return cacheable(body, form: form, request: request)
        case .failure(let error): return failure(.notFound, "Not found", error.description, form: form)
        }
    }

    private func page(target: String, params: FormParameters, form: Form, request: Request) async throws -> Response {
        let snap = store.snapshot()
        let now = WallClock.nowMicros()
        let range: PageRange
        do {
            range = try PageRange(range: params["range"], from: params["from"], to: params["to"], nowMicros: now)
        } catch {
            return failure(.badRequest, "Bad request", error.description, form: form)
        }
        guard snap.catalog.targetID(named: target) != nil else {
            return failure(.notFound, "Not found", "The store holds no runs of \(target).", form: form)
        }
        var page = TargetPage(target: target, range: range)
        if let names { page.names = { names.names(of: $0) } }
        page.deadline = .now + settings.queryTimeout
        let body = try await bounded(form) { [renderer, page] in
            form == .json ? try PageJSON.encode(try page.data(snapshot: snap, nowMicros: now))
                          : renderer.render("target", try page.model(snapshot: snap, nowMicros: now))
        }
        return cacheable(body, form: form, request: request)
    }

    /// A page's work off the event loop; a page whose queries run past the server's query
    /// timeout is answered 503 (`PageTimeout`) rather than kept running.
    private func bounded<T: Sendable>(_ form: Form, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await offload(work)
        } catch let error as QueryError where error.code == .timeout {
            throw PageTimeout(response: tooSlow(form))
        }
    }

    private func tooSlow(_ form: Form) -> Response {
        failure(.serviceUnavailable, "Too slow", "The page's queries ran past the server's query timeout (--query-timeout); a shorter range answers sooner.", form: form)
    }

    /// A JSON answer of a page's data.
    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A page that could not be made: an error page, or the API's `{"error": …}`.
    private func failure(_ status: HTTPResponse.Status, _ heading: String, _ message: String, form: Form) -> Response {
        switch form {
        case .html: Self.html(status, renderer.error(heading, message))
        case .json: Response(status: status, headers: [.contentType: "application/json"],
                             body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\": " + JSONRenderer.quote(message) + "}\n")))
        }
    }

    /// An HTML answer, with `headers` besides its content type.
    static func html(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A page that can be cached: its ETag is its bytes' checksum and length (weak: the same
    /// page, not promised byte for byte across versions), and a request that already holds it
    /// (`If-None-Match`) gets 304 and no body.
    private func cacheable(_ text: String, form: Form, request: Request) -> Response {
        let bytes = Array(text.utf8)
        let tag = "W/\"\(String(CRC32C.checksum(bytes), radix: 16))-\(bytes.count)\""
        if let held = request.headers[.ifNoneMatch], held.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag }) {
            return Response(status: .notModified, headers: [.eTag: tag])
        }
        let type = form == .json ? "application/json" : "text/html; charset=utf-8"
        // The two forms of a page differ: a cache keys them by Accept too.
        return Response(status: .ok, headers: [.contentType: type, .eTag: tag, .cacheControl: "no-cache", .vary: "Accept"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// A page that ran past its deadline, answered with its 503 page (`RequestMetricsMiddleware`
/// hands the response on).
struct PageTimeout: Error {
    let response: Response
    var status: HTTPResponse.Status { response.status }
}

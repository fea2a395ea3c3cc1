import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Logging
import PathTSDB
import Probe
import Query

/// The HTTP API: routes, token checks and bounds over one store, its targets and its monitor.
/// Every route is listed in `OpenAPIDocument`, and the tests check the two agree.
struct APIServer: Sendable {
    let store: PathStore
    let registry: TargetRegistry
    let monitor: Monitor?
    let settings: ServerSettings
    let metrics: ServerMetrics

    static let planHeader = HTTPField.Name("X-SmokeTrace-Plan")

    func buildRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: "SmokeTrace \(STServer.version): the API is under /api/v1 (GET /api/v1/openapi.json describes it); metrics at /metrics.\n")))
        }
        router.get("metrics") { request, _ in
            try authorize(request, write: false)
            let bytes = metrics.render(store: store, registry: registry, monitor: monitor)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        api.get("health") { _, _ in try await health() }
        api.get("query") { request, _ in
            try authorize(request, write: false)
            let params = try FormParameters(request)
            guard let text = params["q"] else {
                throw APIError(.badRequest, "missing the query: add ?q=QUERY (or POST the query text)")
            }
            return try await query(text, params: params)
        }
        api.post("query") { request, _ in
            try authorize(request, write: false)
            let body = try await request.body.collect(upTo: settings.maxQueryBytes)
            return try await query(String(buffer: body), params: try FormParameters(request))
        }
        api.get("export") { request, _ in
            try authorize(request, write: false)
            return try export(try FormParameters(request))
        }
        api.get("paths") { request, _ in
            try authorize(request, write: false)
            return try await listing(.paths, params: try FormParameters(request))
        }
        api.get("changes") { request, _ in
            try authorize(request, write: false)
            return try await listing(.changes, params: try FormParameters(request))
        }
        api.get("targets") { request, _ in
            try authorize(request, write: false)
            return try jsonResponse(registry.targets.map(TargetView.init))
        }
        api.post("targets") { request, _ in
            try authorize(request, write: true)
            let spec = try await decode(TargetSpec.self, from: request)
            let list = try registry.edit { try $0.add(spec) }
            return try jsonResponse(TargetView(list.first { $0.name == spec.name }), status: .created)
        }
        api.put("targets/**") { request, context in
            try authorize(request, write: true)
            var spec = try await decode(TargetSpec.self, from: request)
            spec.name = context.parameters.getCatchAll().joined(separator: "/")
            let list = try registry.edit { [spec] in try $0.update(spec) }
            return try jsonResponse(TargetView(list.first { $0.name == spec.name }))
        }
        api.delete("targets/**") { request, context in
            try authorize(request, write: true)
            let name = context.parameters.getCatchAll().joined(separator: "/")
            _ = try registry.edit { try $0.remove(name) }
            return Response(status: .noContent)
        }
        api.post("reload") { request, _ in
            try authorize(request, write: true)
            return try jsonResponse(["targets": try registry.reload()])
        }
        api.post("runs") { request, _ in
            try authorize(request, write: true)
            return try await ingest(request)
        }
        return router
    }

    // MARK: - Access

    /// Writes always need a token; reads only when the server keeps them private.
    func authorize(_ request: Request, write: Bool) throws {
        guard write || settings.privateReads else { return }
        guard !settings.tokens.isEmpty else {
            throw APIError(.forbidden, "this server has no API token configured, so it accepts no writes (start it with --token-file)")
        }
        var challenge = APIError(.unauthorized, "this needs a bearer token: send 'Authorization: Bearer TOKEN'")
        challenge.headers[.wwwAuthenticate] = "Bearer realm=\"smoketrace\""
        guard let header = request.headers[.authorization] else { throw challenge }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw challenge }
        let given = Array(parts[1].utf8)
        // Compare against every token in full, so the time taken says nothing of how much matched.
        var ok = false
        for t in settings.tokens {
            let want = Array(t.utf8)
            var diff = UInt8(want.count == given.count ? 0 : 1)
            for i in 0..<max(want.count, given.count) {
                diff |= (i < want.count ? want[i] : 0) ^ (i < given.count ? given[i] : 0)
            }
            ok = ok || diff == 0
        }
        guard ok else {
            challenge.message = "the bearer token is not valid"
            challenge.headers[.wwwAuthenticate] = "Bearer realm=\"smoketrace\", error=\"invalid_token\""
            throw challenge
        }
    }

    // MARK: - Reads

    private func health() async throws -> Response {
        let snap = store.snapshot()
        let counters = monitor?.counters
        return try jsonResponse(HealthView(
            status: "ok", version: STServer.version, targets: registry.targets.count, storedTargets: snap.catalog.targetNames.count,
            segments: snap.segments.count, newestRun: snap.timeRange.map { RFC3339.format(micros: $0.upperBound) },
            monitor: counters.map { MonitorView(started: $0.started, stored: $0.stored, failed: $0.failed, missed: $0.missed) }))
    }

    private func context(_ params: FormParameters, snapshot: StoreSnapshot, bounded: Bool) throws -> QueryContext {
        let now: Int64
        switch params["at"] ?? "now" {
        case "now": now = WallClock.nowMicros()
        case "newest": now = (snapshot.timeRange?.upperBound ?? WallClock.nowMicros()) + 1
        case let t:
            guard let parsed = RFC3339.parse(t) else { throw APIError(.badRequest, "at=\(t): expected now, newest or an RFC 3339 time") }
            now = parsed
        }
        return QueryContext(nowMicros: now, tags: registry.path == nil ? nil : registry.tags,
                            maxRows: bounded ? settings.maxRows : nil, deadline: .now + settings.queryTimeout)
    }

    private func format(_ params: FormParameters, default fallback: OutputFormat) throws -> OutputFormat {
        guard let text = params["format"] else { return fallback }
        guard let f = OutputFormat(rawValue: text) else { throw APIError(.badRequest, "format=\(text): expected json, csv or table") }
        return f
    }

    private func query(_ text: String, params: FormParameters) async throws -> Response {
        guard text.utf8.count <= settings.maxQueryBytes else {
            throw APIError(.contentTooLarge, "the query is longer than \(settings.maxQueryBytes) bytes")
        }
        let snap = store.snapshot()
        let ctx = try context(params, snapshot: snap, bounded: true)
        let fmt = try format(params, default: .json)
        return try await answer(snapshot: snap, format: fmt) { () throws(QueryError) in
            try QueryEngine.cursor(text, snapshot: snap, context: ctx)
        }
    }

    /// `GET /paths` and `GET /changes`: the same as the query of that kind over the targets and
    /// times given as parameters.
    private func listing(_ kind: ParsedQuery.Kind, params: FormParameters) async throws -> Response {
        let snap = store.snapshot()
        let ctx = try context(params, snapshot: snap, bounded: true)
        let q = try selection(kind, params: params, now: ctx.nowMicros)
        return try await answer(snapshot: snap, format: try format(params, default: .json)) { () throws(QueryError) in
            try QueryEngine.cursor(q, snapshot: snap, context: ctx)
        }
    }

    private func answer(snapshot: StoreSnapshot, format: OutputFormat,
                        _ makeCursor: @escaping @Sendable () throws(QueryError) -> QueryCursor) async throws -> Response {
        let started = ContinuousClock.now
        let (text, summary, contentType) = try await offload { () throws -> (String, String, String) in
            var cursor = try makeCursor()
            var writer = ResultWriter(format: format, columns: cursor.columns.map(\.name))
            var out = writer.header()
            while let rows = try cursor.next() { out += writer.rows(rows) }
            out += writer.finish()
            return (out, cursor.plan.summary, writer.contentType)
        }
        metrics.query(ContinuousClock.now - started)
        var headers: HTTPFields = [.contentType: contentType]
        if let name = Self.planHeader { headers[name] = summary }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The selection parameters of the listing and export routes: `target` (repeatable),
    /// `group` (repeatable), `from`, `to` (RFC 3339, now, or -24h), `hop` (a TTL).
    private func selection(_ kind: ParsedQuery.Kind, params: FormParameters, now: Int64) throws -> ParsedQuery {
        var q = ParsedQuery(kind: kind)
        for key in ["target", "group"] where params[all: key].contains(where: \.isEmpty) {
            throw APIError(.badRequest, "\(key)= needs a name")
        }
        q.targets = params[all: "target"].map { .name($0) } + params[all: "group"].map { .group($0) }
        func time(_ key: String) throws -> TimePoint? {
            guard let text = params[key] else { return nil }
            if let t = RFC3339.parse(text) { return .absolute(t) }
            if text == "now" { return .relative(0) }
            if text.hasPrefix("-"), let d = DurationText.parseMicros(String(text.dropFirst())) { return .relative(-d) }
            throw APIError(.badRequest, "\(key)=\(text): expected an RFC 3339 time, now, or an offset such as -24h")
        }
        q.range = TimeSpec(from: try time("from"), to: try time("to"))
        for h in params[all: "hop"] {
            guard let ttl = Int(h), (1...255).contains(ttl) else { throw APIError(.badRequest, "hop=\(h): expected a TTL from 1 to 255") }
            q.hops.append(.ttl(ttl...ttl))
        }
        return q
    }

    /// `GET /export`: every probe of the selection as CSV (or JSON), streamed as it is read, so
    /// an export of months never sits in memory. `q` exports any query's answer instead.
    private func export(_ params: FormParameters) throws -> Response {
        let snap = store.snapshot()
        var ctx = try context(params, snapshot: snap, bounded: false)
        ctx.deadline = nil  // an export runs as long as the client reads
        let fmt = try format(params, default: .csv)
        let cursor: QueryCursor
        if let text = params["q"] {
            guard text.utf8.count <= settings.maxQueryBytes else {
                throw APIError(.contentTooLarge, "the query is longer than \(settings.maxQueryBytes) bytes")
            }
            cursor = try QueryEngine.cursor(text, snapshot: snap, context: ctx)
        } else {
            cursor = try QueryEngine.cursor(try selection(.probes, params: params, now: ctx.nowMicros), snapshot: snap, context: ctx)
        }
        let stream = ExportStream(cursor: cursor, format: fmt)
        var headers: HTTPFields = [.contentType: stream.contentType]
        if fmt == .csv { headers[.contentDisposition] = "attachment; filename=\"smoketrace-export.csv\"" }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            while let chunk = try await offload({ try stream.next() }) {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        })
    }

    // MARK: - Writes

    private func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let body = try await request.body.collect(upTo: settings.maxBodyBytes)
        return try Self.decodeJSON(T.self, Array(buffer: body))
    }

    /// Decodes JSON; a syntax error names its line and column, a wrong document its field.
    static func decodeJSON<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        if let p = JSONSyntax.firstProblem(in: bytes) {
            throw APIError(.badRequest, "malformed JSON: \(p.message)", line: p.line, column: p.column)
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let e as DecodingError {
            throw APIError(.badRequest, "malformed JSON: \(JSONErrorText.describe(e))")
        }
    }

    /// `POST /runs`: runs traced elsewhere, as JSON (`RunDocument`, one or an array) or, with
    /// `format=atlas`, as RIPE Atlas results. The answer comes once the runs are in the WAL.
    private func ingest(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: settings.maxBodyBytes)
        let bytes = Array(buffer: body)
        let format = try FormParameters(request)["format"] ?? "json"
        var runs = [TraceRun]()
        var failures = [MissedSlot]()
        switch format {
        case "json":
            let docs: [RunDocument]
            if bytes.first(where: { !$0.isWhitespace }) == UInt8(ascii: "[") {
                docs = try Self.decodeJSON([RunDocument].self, bytes)
            } else {
                docs = [try Self.decodeJSON(RunDocument.self, bytes)]
            }
            for (i, d) in docs.enumerated() { runs.append(try d.traceRun(index: i)) }
        case "atlas":
            failures = try AtlasStreamReader().read(bytes: bytes, name: "request body") { runs += $0 }.failures
        default:
            throw APIError(.badRequest, "format=\(format): expected json or atlas")
        }
        guard !runs.isEmpty || !failures.isEmpty else { throw APIError(.badRequest, "the request holds no runs") }
        let (toStore, failed) = (runs, failures)
        try await offload {
            if !toStore.isEmpty { try store.append(toStore) }
            // Results that reported an error instead of hops are failed traces, stored as such.
            if !failed.isEmpty { try store.recordMissed(failed) }
        }
        let probes = runs.reduce(0) { $0 + $1.probes.count }
        metrics.ingested(runs: runs.count, probes: probes)
        // `failed` only where it can be other than 0: Atlas results.
        return try jsonResponse(format == "atlas" ? ["runs": runs.count, "probes": probes, "failed": failures.count]
                                                  : ["runs": runs.count, "probes": probes])
    }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}

/// A query answer streamed chunk by chunk: the header, batches of rows, the end.
///
/// `@unchecked Sendable`: the response body writer calls `next()` from one task, one call after
/// the other (each on a Dispatch thread through `offload`), never two at once; the lock makes
/// that hand-over safe.
final class ExportStream: @unchecked Sendable {
    private var cursor: QueryCursor
    private var writer: ResultWriter
    private var state = 0  // 0 header, 1 rows, 2 done
    private let lock = NSLock()

    init(cursor: QueryCursor, format: OutputFormat) {
        self.cursor = cursor
        writer = ResultWriter(format: format, columns: cursor.columns.map(\.name))
    }

    var contentType: String { writer.contentType }

    /// The next piece of the answer, about 1 MiB (fewer, larger writes), or nil when complete.
    func next() throws -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        switch state {
        case 0:
            state = 1
            return Array(writer.header().utf8)
        case 1:
            if writer.format == .csv && cursor.rendersCSVDirectly {
                var out = [UInt8]()
                out.reserveCapacity(1 << 21)
                if try !cursor.nextCSV(into: &out) {
                    state = 2
                    out += Array(writer.finish().utf8)
                }
                return out
            }
            var out = ""
            while out.utf8.count < 1 << 20 {
                guard let rows = try cursor.next() else {
                    state = 2
                    return Array((out + writer.finish()).utf8)
                }
                out += writer.rows(rows)
            }
            return Array(out.utf8)
        default:
            return nil
        }
    }
}

/// Counts every request by route, method and status for `/metrics`, and turns every error into
/// the API's JSON error answer.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code)
            return response
        } catch {
            // Every failure is answered as JSON with its cause, whatever threw it.
            var mapped = APIError.from(error)
            if let e = error as? HTTPError {
                mapped = APIError(e.status, e.body ?? (e.status == .notFound ? "no such route: \(request.method) \(request.uri.path)" : e.status.reasonPhrase))
                mapped.headers = e.headers
                // A documented path asked with a method it does not take: 405, with the ones it does.
                let allowed = OpenAPIDocument.methods(for: request.uri.path)
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

// MARK: - JSON views

struct TargetView: Encodable {
    var name: String
    var address: String
    var tool: String
    var method: String
    var intervalSeconds: Double
    var probes: Int
    var firstTTL: Int
    var maxTTL: Int
    var tags: [String]

    enum CodingKeys: String, CodingKey {
        case name, address, tool, method, probes, tags
        case intervalSeconds = "interval_s", firstTTL = "first_ttl", maxTTL = "max_ttl"
    }

    init(_ t: ScheduledTarget) {
        name = t.name
        address = t.address.text
        tool = t.tool.rawValue
        method = t.settings.method.description
        intervalSeconds = Double(t.intervalMicros) / 1e6
        probes = t.settings.probesPerHop
        firstTTL = t.settings.firstTTL
        maxTTL = t.settings.maxTTL
        tags = t.tags
    }

    init(_ t: ScheduledTarget?) throws {
        guard let t else { throw APIError(.internalServerError, "the target was written but is not in the reloaded file") }
        self.init(t)
    }
}

struct MonitorView: Encodable {
    var started, stored, failed, missed: Int
}

struct HealthView: Encodable {
    var status: String
    var version: String
    var targets: Int
    var storedTargets: Int
    var segments: Int
    var newestRun: String?
    var monitor: MonitorView?

    enum CodingKeys: String, CodingKey {
        case status, version, targets, segments, monitor
        case storedTargets = "stored_targets", newestRun = "newest_run"
    }
}

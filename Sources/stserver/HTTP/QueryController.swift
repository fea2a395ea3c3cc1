import Alerting
import HTTPTypes
import Hummingbird
import NIOCore
import PathTSDB
import Query

/// The read routes over the store: `/query`, `/paths`, `/changes` and `/export`.
struct QueryController: Sendable {
    let store: PathStore
    let registry: TargetRegistry
    let settings: ServerSettings
    let metrics: ServerMetrics
    /// The alert engine, whose transitions the `alerts` kind reads; nil without `--rules`.
    let alerts: AlertEngine?

    static let planHeader = HTTPField.Name("X-SmokeTrace-Plan")
    /// Set when data is quarantined: the answer leaves it out.
    static let warningHeader = HTTPField.Name("X-SmokeTrace-Warning")

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.reads.get("query") { request, _ in
            let params = try FormParameters(request)
            guard let text = params["q"] else {
                throw APIError(.badRequest, "missing the query: add ?q=QUERY (or POST the query text)")
            }
            return try await query(text, params: params)
        }
        routes.reads.post("query") { request, _ in
            let body = try await request.body.collect(upTo: settings.maxQueryBytes)
            return try await query(String(buffer: body), params: try FormParameters(request))
        }
        routes.reads.get("export") { request, _ in try export(try FormParameters(request)) }
        routes.reads.get("paths") { request, _ in try await listing(.paths, params: try FormParameters(request)) }
        routes.reads.get("changes") { request, _ in try await listing(.changes, params: try FormParameters(request)) }
    }

    private func context(_ params: FormParameters, snapshot: StoreSnapshot, bounded: Bool) throws -> QueryContext {
        let at = params["at"] ?? "now"
        guard let now = QueryContext.now(at: at, snapshot: snapshot) else {
            throw APIError(.badRequest, "at=\(at): expected now, newest or an RFC 3339 time")
        }
        var context = QueryContext(nowMicros: now, tags: registry.path == nil ? nil : registry.tags,
                                   maxRows: bounded ? settings.maxRows : nil, deadline: .now + settings.queryTimeout)
        context.alerts = alerts?.transitions(limit: AlertEngine.recentLimit)
        return context
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
        return try await answer(format: fmt) { () throws(QueryError) in
            try QueryEngine.cursor(text, snapshot: snap, context: ctx)
        }
    }

    /// `GET /paths` and `GET /changes`: the same as the query of that kind over the targets and
    /// times given as parameters.
    private func listing(_ kind: ParsedQuery.Kind, params: FormParameters) async throws -> Response {
        let snap = store.snapshot()
        let ctx = try context(params, snapshot: snap, bounded: true)
        let q = try selection(kind, params: params)
        return try await answer(format: try format(params, default: .json)) { () throws(QueryError) in
            try QueryEngine.cursor(q, snapshot: snap, context: ctx)
        }
    }

    private func answer(format: OutputFormat,
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
        if let name = Self.warningHeader, let warning = QuarantineWarning.text(store.quarantinedFiles) { headers[name] = warning }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The selection parameters of the listing and export routes: `target` (repeatable),
    /// `group` (repeatable), `from`, `to` (RFC 3339, now, or -24h), `hop` (a TTL).
    private func selection(_ kind: ParsedQuery.Kind, params: FormParameters) throws -> ParsedQuery {
        var hops = [Int]()
        for h in params[all: "hop"] {
            guard let ttl = Int(h) else { throw APIError(.badRequest, "hop=\(h): expected a TTL from 1 to 255") }
            hops.append(ttl)
        }
        let selection = QuerySelection(targets: params[all: "target"], groups: params[all: "group"], from: params["from"], to: params["to"], hops: hops)
        return try selection.query(kind) { "\($0)=" }
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
            cursor = try QueryEngine.cursor(try selection(.probes, params: params), snapshot: snap, context: ctx)
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
}

import Alerting
import HTTPTypes
import Hummingbird
import PathTSDB
import Probe

/// `POST /runs`: runs traced elsewhere, as JSON (`RunDocument`, one or an array) or, with
/// `format=atlas`, as RIPE Atlas results. The answer comes once the runs are in the WAL (and
/// synced, by the server's `--sync`). The store keeps each run once, so a retried request
/// stores nothing twice; with an `Idempotency-Key` it also gets its first answer back.
struct RunController: Sendable {
    let store: PathStore
    let settings: ServerSettings
    let metrics: ServerMetrics
    let alerts: AlertEngine?
    let idempotency = IdempotencyKeys()

    // Both names are valid tokens, so neither is nil.
    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.writes.post("runs") { request, _ in try await ingest(request) }
    }

    private func ingest(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: settings.maxBodyBytes)
        let bytes = Array(buffer: body)
        let format = try FormParameters(request)["format"] ?? "json"
        guard let name = RunController.idempotencyKeyHeader, let header = request.headers[name] else {
            return response(try await store(bytes, format: format))
        }
        guard let key = IdempotencyKeys.parse(header) else {
            throw APIError(.badRequest, "Idempotency-Key: expected 1 to 255 printable ASCII characters")
        }
        var hasher = Hasher()
        hasher.combine(format)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        let fingerprint = hasher.finalize()
        let scope = request.headers[.authorization] ?? ""
        switch idempotency.claim(key, scope: scope, fingerprint: fingerprint, nowMicros: WallClock.nowMicros()) {
        case .replay(let status, let answer):
            var replayed = response(IdempotencyKeys.Answer(status: status, body: answer))
            if let name = RunController.replayedHeader { replayed.headers[name] = "true" }
            return replayed
        case .inFlight:
            throw APIError(.conflict, "a request with this Idempotency-Key is being handled; try again when it is answered")
        case .reused:
            throw APIError(.unprocessableContent, "this Idempotency-Key was used for another request")
        case .fresh:
            do {
                let answer = try await store(bytes, format: format)
                idempotency.finish(key, scope: scope, answer: answer, nowMicros: WallClock.nowMicros())
                return response(answer)
            } catch {
                idempotency.finish(key, scope: scope, answer: nil, nowMicros: WallClock.nowMicros())
                throw error
            }
        }
    }

    private func response(_ answer: IdempotencyKeys.Answer) -> Response {
        Response(status: answer.status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    /// Parses and stores the body; the answer says what was stored and what was held already.
    private func store(_ bytes: [UInt8], format: String) async throws -> IdempotencyKeys.Answer {
        var runs = [TraceRun]()
        var failures = [MissedSlot]()
        switch format {
        case "json":
            let docs: [RunDocument]
            if bytes.first(where: { !$0.isJSONWhitespace }) == UInt8(ascii: "[") {
                docs = try RequestJSON.decode([RunDocument].self, bytes)
            } else {
                docs = [try RequestJSON.decode(RunDocument.self, bytes)]
            }
            for (i, d) in docs.enumerated() { runs.append(try d.traceRun(index: i)) }
        case "atlas":
            failures = try AtlasStreamReader().read(bytes: bytes, name: "request body") { runs += $0 }.failures
        default:
            throw APIError(.badRequest, "format=\(format): expected json or atlas")
        }
        guard !runs.isEmpty || !failures.isEmpty else { throw APIError(.badRequest, "the request holds no runs") }
        let (toStore, failed) = (runs, failures)
        let (result, recordedFailures) = try await offload { () throws -> (PathStore.AppendResult?, Int) in
            let result = toStore.isEmpty ? nil : try store.appendReporting(toStore)
            // Results that reported an error instead of hops are failed traces, stored as such.
            let recorded = failed.isEmpty ? 0 : try store.recordMissed(failed)
            return (result, recorded)
        }
        let stored = result?.table
        let storedRuns = stored?.runs.count ?? 0, probes = stored?.probes.count ?? 0
        let duplicates = (result?.duplicates.count ?? 0) + failures.count - recordedFailures
        metrics.ingested(runs: storedRuns, probes: probes)
        if let result, storedRuns > 0 {
            alerts?.markDirty(Set(result.storedIndices(of: runs.count).map { runs[$0].target }))
        }
        // `failed` only where it can be other than 0: Atlas results.
        var answer = ["runs": storedRuns, "probes": probes, "duplicates": duplicates]
        if format == "atlas" { answer["failed"] = recordedFailures }
        return IdempotencyKeys.Answer(status: .ok, body: try jsonBytes(answer))
    }
}

extension UInt8 {
    fileprivate var isJSONWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}

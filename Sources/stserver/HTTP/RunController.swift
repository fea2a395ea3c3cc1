import Alerting
import Hummingbird
import PathTSDB
import Probe

/// `POST /runs`: runs traced elsewhere, as JSON (`RunDocument`, one or an array) or, with
/// `format=atlas`, as RIPE Atlas results. The answer comes once the runs are in the WAL.
struct RunController: Sendable {
    let store: PathStore
    let settings: ServerSettings
    let metrics: ServerMetrics
    let alerts: AlertEngine?

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.writes.post("runs") { request, _ in try await ingest(request) }
    }

    private func ingest(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: settings.maxBodyBytes)
        let bytes = Array(buffer: body)
        let format = try FormParameters(request)["format"] ?? "json"
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
        try await offload {
            if !toStore.isEmpty { try store.append(toStore) }
            // Results that reported an error instead of hops are failed traces, stored as such.
            if !failed.isEmpty { try store.recordMissed(failed) }
        }
        let probes = runs.reduce(0) { $0 + $1.probes.count }
        metrics.ingested(runs: runs.count, probes: probes)
        alerts?.markDirty(Set(runs.map(\.target)))
        // `failed` only where it can be other than 0: Atlas results.
        return try jsonResponse(format == "atlas" ? ["runs": runs.count, "probes": probes, "failed": failures.count]
                                                  : ["runs": runs.count, "probes": probes])
    }
}

extension UInt8 {
    fileprivate var isJSONWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}

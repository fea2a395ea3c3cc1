import Alerting
import Hummingbird
import NIOCore
import PathTSDB
import Probe

/// The server's own state: the landing text, `/metrics`, the API description and health.
struct StatusController: Sendable {
    let store: PathStore
    let registry: TargetRegistry
    let monitor: Monitor?
    let metrics: ServerMetrics
    let alerts: AlertEngine?

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>, router: Router<Context>) {
        router.get("/") { request, _ in
            // A browser asks for HTML: it gets the overview, the web pages' start.
            if request.headers[.accept]?.contains("text/html") == true {
                return Response(status: .seeOther, headers: [.location: "/targets"])
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: "SmokeTrace \(STServer.version): the API is under /api/v1 (GET /api/v1/openapi.json or openapi.yaml describes it); metrics at /metrics.\n")))
        }
        routes.rootReads.get("metrics") { _, _ in
            let bytes = metrics.render(store: store, registry: registry, monitor: monitor, alerts: alerts)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        routes.open.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
        }
        routes.open.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.yaml)))
        }
        routes.open.get("health") { _, _ in try health() }
    }

    private func health() throws -> Response {
        let snap = store.snapshot()
        let counters = monitor?.counters
        let quarantined = store.quarantinedFiles.count
        return try jsonResponse(Schemas.Health(
            // "degraded" while a write of the store fails (a full disk): runs may be refused; and
            // while data is quarantined: answers leave it out.
            status: store.writeFailure == nil && quarantined == 0 ? "ok" : "degraded", version: STServer.version, targets: registry.targets.count, storedTargets: snap.catalog.targetNames.count,
            segments: snap.segments.count, quarantined: quarantined, newestRun: snap.timeRange.map { RFC3339.format(micros: $0.upperBound) },
            monitor: counters.map { .init(started: $0.started, stored: $0.stored, failed: $0.failed, missed: $0.missed) }))
    }
}

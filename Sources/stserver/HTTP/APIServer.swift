import Alerting
import Hummingbird
import PathTSDB
import Probe
import WebUI

/// The HTTP API over one store, its targets and its monitor: the router, with each area's
/// routes added by its controller to the group of the access they need. Every route is described
/// in `openapi.yaml`, and the tests check the two agree.
struct APIServer: Sendable {
    let store: PathStore
    let registry: TargetRegistry
    let monitor: Monitor?
    let settings: ServerSettings
    let metrics: ServerMetrics
    var rules: RuleSet? = nil

    func buildRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let index = RouteIndex()
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics, routes: index))
        let routes = APIRoutes(router: router, settings: settings)
        StatusController(store: store, registry: registry, monitor: monitor, metrics: metrics, alerts: rules?.engine).addRoutes(to: routes, router: router)
        QueryController(store: store, registry: registry, settings: settings, metrics: metrics, alerts: rules?.engine).addRoutes(to: routes)
        TargetController(registry: registry, rules: rules, settings: settings).addRoutes(to: routes)
        AlertController(rules: rules, settings: settings).addRoutes(to: routes)
        RunController(store: store, settings: settings, metrics: metrics, alerts: rules?.engine).addRoutes(to: routes)
        // The templates are compiled in, and WebUITests render each: they always parse.
        if let pages = try? PageRenderer(version: STServer.version) {
            WebController(store: store, renderer: pages, settings: settings, registry: registry, alerts: rules?.engine,
                          names: settings.reverseDNS.map { ReverseNameCache(server: $0) }).addRoutes(to: routes)
            AlertPageController(rules: rules, settings: settings, renderer: pages, session: WebSession()).addRoutes(to: routes)
        }
        index.record(router)
        return router
    }
}

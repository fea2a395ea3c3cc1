import Alerting
import PathTSDB
import Probe
import Prometheus
import Synchronization

/// The server's own figures in Prometheus exposition format (`GET /metrics`): requests by route
/// and status, query latency, runs ingested, the monitor's traces, and the store's size.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let queryLatency: DurationHistogram
    private let runsIngested: Counter
    private let probesIngested: Counter
    private let traces: [String: Counter]
    private let lastMonitor = Mutex(Monitor.Counters())
    private let storeBytes: Gauge
    private let storeSegments: Gauge
    private let targets: Gauge
    private let newestRun: Gauge
    private let lastOutbox = Mutex([String: Outbox.Counts]())
    private let walSyncs: Counter
    private let quarantined: Gauge
    private let lastWALSyncs = Mutex(0)
    /// The per-target series, fed by the monitor's runs.
    let perTarget: TargetMetrics

    init() {
        queryLatency = registry.makeDurationHistogram(
            descriptor: Self.name("query_duration", unit: "seconds", help: "Time to answer a query, parse to last row."),
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)])
        runsIngested = registry.makeCounter(descriptor: Self.name("ingested_runs", unit: "total", help: "Runs accepted by POST /api/v1/runs."))
        probesIngested = registry.makeCounter(descriptor: Self.name("ingested_probes", unit: "total", help: "Probes in the runs accepted by POST /api/v1/runs."))
        var t = [String: Counter]()
        for outcome in ["started", "stored", "failed", "missed"] {
            t[outcome] = registry.makeCounter(
                descriptor: Self.name("monitor_traces", unit: "total", help: "Traces of the monitor by outcome (missed: a slot that could not start on time)."),
                labels: [("outcome", outcome)])
        }
        traces = t
        storeBytes = registry.makeGauge(descriptor: Self.name("store", unit: "bytes", help: "Bytes the store takes on disk."))
        storeSegments = registry.makeGauge(descriptor: Self.name("store_segments", unit: "", help: "Segment files in the store."))
        targets = registry.makeGauge(descriptor: Self.name("targets", unit: "", help: "Targets in the targets file."))
        newestRun = registry.makeGauge(descriptor: Self.name("newest_run_timestamp", unit: "seconds", help: "Start of the newest run held."))
        walSyncs = registry.makeCounter(descriptor: Self.name("wal_group_syncs", unit: "total",
            help: "WAL syncs by group commit (--sync always): each acknowledges every batch written before it began."))
        quarantined = registry.makeGauge(descriptor: Self.name("quarantined_files", unit: "",
            help: "Files moved to quarantine/ because they failed a check: their data is in no answer (stserver verify names them)."))
        perTarget = TargetMetrics(registry: registry)
    }

    /// `smoketrace_NAME_UNIT`, the server's metric names.
    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "smoketrace", metricName: metric, unitName: unit, helpText: help)
    }

    func request(route: String, method: String, status: Int) {
        registry.makeCounter(descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests by route, method and status."),
                             labels: [("route", route), ("method", method), ("status", String(status))]).increment()
    }

    func query(_ d: Duration) { queryLatency.record(d) }

    func ingested(runs: Int, probes: Int) {
        runsIngested.increment(by: Int64(runs))
        probesIngested.increment(by: Int64(probes))
    }

    /// Brings the gauges and the monitor's counters up to date, then renders everything.
    func render(store: PathStore, registry targetRegistry: TargetRegistry, monitor: Monitor?, alerts: AlertEngine? = nil) -> [UInt8] {
        if let usage = try? store.diskUsage() { storeBytes.set(Double(usage.totalBytes)) }
        let snap = store.snapshot()
        storeSegments.set(Double(snap.segments.count))
        quarantined.set(Double(store.quarantinedFiles.count))
        targets.set(Double(targetRegistry.targets.count))
        if let newest = snap.timeRange?.upperBound { newestRun.set(Double(newest) / 1e6) }
        if let monitor {
            let now = monitor.counters
            lastMonitor.withLock { last in
                traces["started"]?.increment(by: Int64(now.started - last.started))
                traces["stored"]?.increment(by: Int64(now.stored - last.stored))
                traces["failed"]?.increment(by: Int64(now.failed - last.failed))
                traces["missed"]?.increment(by: Int64(now.missed - last.missed))
                last = now
            }
        }
        let syncs = store.walGroupSyncs
        lastWALSyncs.withLock { last in
            walSyncs.increment(by: Int64(max(syncs - last, 0)))
            last = syncs
        }
        if let alerts { renderAlerts(alerts) }
        perTarget.refresh(store: store, alerts: alerts)
        return registry.emitToBuffer()
    }

    /// Alerts by state and severity; notifications by receiver and outcome; the outbox.
    private func renderAlerts(_ alerts: AlertEngine) {
        let active = alerts.activeAlerts
        for state in ["pending", "firing"] {
            for severity in Severity.allCases {
                registry.makeGauge(descriptor: Self.name("alerts", unit: "", help: "Alerts pending or firing, by state and severity."),
                                   labels: [("state", state), ("severity", severity.rawValue)])
                    .set(Double(active.filter { $0.state.description == state && $0.severity == severity }.count))
            }
        }
        let now = alerts.outbox.counts
        let names = Set(now.keys).union(alerts.rules.receivers.map(\.name))
        lastOutbox.withLock { last in
            for name in names.sorted() {
                let c = now[name] ?? Outbox.Counts(), l = last[name] ?? Outbox.Counts()
                for (outcome, value) in [("delivered", c.delivered - l.delivered), ("failed", c.failedAttempts - l.failedAttempts), ("expired", c.expired - l.expired)] {
                    registry.makeCounter(descriptor: Self.name("notifications", unit: "total", help: "Delivery attempts by receiver and outcome (failed attempts are retried until the notification expires)."),
                                         labels: [("receiver", name), ("outcome", outcome)]).increment(by: Int64(max(value, 0)))
                }
                registry.makeGauge(descriptor: Self.name("outbox_waiting", unit: "", help: "Notifications waiting in the outbox, by receiver."),
                                   labels: [("receiver", name)]).set(Double(c.waiting))
            }
            last = now
        }
    }
}

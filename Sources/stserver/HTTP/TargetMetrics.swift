import Alerting
import PathTSDB
import Probe
import Prometheus
import Synchronization

/// Per-target figures for operators who graph and alert in Prometheus, one set of series per
/// target of the targets file (cardinality: targets × (RTT buckets + 7)):
///
/// - `smoketrace_target_rtt_seconds{target}`: a histogram of the destination's RTTs, every
///   probe that reached it (buckets from 50 µs doubling to 6.5 s, as smokeping_prober's);
/// - `smoketrace_target_probes_sent_total`, `smoketrace_target_probes_lost_total`: the
///   destination's probes, so that `rate(lost) / rate(sent)` is its loss;
/// - `smoketrace_target_hops`, `smoketrace_target_reached`: the newest run's hop count and
///   whether it reached the destination;
/// - `smoketrace_target_path_id`: the dictionary id of the newest run's path (it changes when the
///   path does);
/// - `smoketrace_target_path_changes_24h`: path-change events of the last 24 hours;
/// - `smoketrace_target_alerts_firing`: firing alerts.
///
/// Targets with `hop_metrics: true` in the targets file also get, per TTL up to the destination's
/// (so at most `max_ttl` of them), labelled `{target, ttl}`:
///
/// - `smoketrace_hop_rtt_seconds`: a histogram of the RTTs of every reply at that TTL;
/// - `smoketrace_hop_probes_sent_total`, `smoketrace_hop_probes_unanswered_total`: the hop's
///   reply loss, which is the path's loss only when later hops share it;
/// - `smoketrace_hop_responders`: the addresses that answered at that TTL in the newest run
///   (more than one is a load-balanced hop).
final class TargetMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let known = Mutex<Set<String>>([])
    /// The targets whose per-hop series are wanted, from the targets file.
    private let hopTargets = Mutex<Set<String>>([])
    static let buckets: [Duration] = (0..<18).map { .nanoseconds(50_000 << $0) }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "smoketrace", subsystem: "target", metricName: metric, unitName: unit, helpText: help)
    }

    private static func hopName(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "smoketrace", subsystem: "hop", metricName: metric, unitName: unit, helpText: help)
    }

    /// Takes the targets file as read (at start and on every reload): which targets want per-hop series.
    func configure(_ targets: [ScheduledTarget]) {
        let wanted = Set(targets.filter(\.hopMetrics).map(\.name))
        hopTargets.withLock { $0 = wanted }
    }

    /// Counts a stored run: its destination probes and RTTs, its hop count, and its hops' figures
    /// when the target asks for them.
    func observe(_ run: TraceRun) {
        if hopTargets.withLock({ $0.contains(run.target) }) { observeHops(run) }
        let labels = [("target", run.target)]
        known.withLock { _ = $0.insert(run.target) }
        let rtt = registry.makeDurationHistogram(descriptor: Self.name("rtt", unit: "seconds", help: "RTTs of the probes that reached the destination."),
                                                 labels: labels, buckets: Self.buckets)
        // The destination's probes: those at the TTL it answered from, or, when it did not,
        // at the highest TTL probed (as the store's end-to-end loss counts them).
        let reachedAt = run.probes.first { $0.address == run.destination }?.ttl
        let ttl = reachedAt ?? run.probes.map(\.ttl).max() ?? 0
        var sent = 0, lost = 0
        for p in run.probes where p.ttl == ttl {
            sent += 1
            if p.address == run.destination {
                if p.isTimed { rtt.recordNanoseconds(Int64(p.rttMicros) * 1000) }
            } else {
                lost += 1
            }
        }
        if run.interrupted && reachedAt == nil { return }  // it did not wait for its replies
        registry.makeCounter(descriptor: Self.name("probes_sent", unit: "total", help: "Probes sent at the destination's TTL."), labels: labels)
            .increment(by: Int64(sent))
        registry.makeCounter(descriptor: Self.name("probes_lost", unit: "total", help: "Probes at the destination's TTL that it did not answer."), labels: labels)
            .increment(by: Int64(lost))
        registry.makeGauge(descriptor: Self.name("hops", unit: "", help: "Hops of the newest run (the destination's TTL when it answered)."), labels: labels)
            .set(Double(reachedAt ?? ttl))
        registry.makeGauge(descriptor: Self.name("reached", unit: "", help: "1 when the newest run reached the destination."), labels: labels)
            .set(Double(reachedAt == nil ? 0 : 1))
    }

    private func observeHops(_ run: TraceRun) {
        let last = run.probes.first { $0.address == run.destination }?.ttl ?? run.probes.map(\.ttl).max() ?? 0
        let byTTL = Dictionary(grouping: run.probes.filter { $0.ttl <= last }, by: \.ttl)
        for (ttl, probes) in byTTL {
            let labels = [("target", run.target), ("ttl", String(ttl))]
            let rtt = registry.makeDurationHistogram(descriptor: Self.hopName("rtt", unit: "seconds", help: "RTTs of the replies at the TTL."),
                                                     labels: labels, buckets: Self.buckets)
            var unanswered = 0
            var responders = Set<IPAddress>()
            for p in probes {
                if let address = p.address {
                    responders.insert(address)
                    if p.isTimed { rtt.recordNanoseconds(Int64(p.rttMicros) * 1000) }
                } else {
                    unanswered += 1
                }
            }
            registry.makeGauge(descriptor: Self.hopName("responders", unit: "", help: "Addresses that answered at the TTL in the newest run."), labels: labels)
                .set(Double(responders.count))
            if run.interrupted && responders.isEmpty { continue }  // it did not wait for their replies
            registry.makeCounter(descriptor: Self.hopName("probes_sent", unit: "total", help: "Probes sent at the TTL."), labels: labels)
                .increment(by: Int64(probes.count))
            registry.makeCounter(descriptor: Self.hopName("probes_unanswered", unit: "total", help: "Probes at the TTL that nothing answered: the hop's reply loss."), labels: labels)
                .increment(by: Int64(unanswered))
        }
    }

    /// Brings the gauges read from the store and the alerts up to date, for the targets seen.
    func refresh(store: PathStore, alerts: AlertEngine?, now: Int64 = WallClock.nowMicros()) {
        let names = known.withLock { $0 }
        guard !names.isEmpty else { return }
        let snap = store.snapshot()
        let ids = names.compactMap { snap.catalog.targetID(named: $0) }
        var changes = [TargetID: Int]()
        for e in snap.events(in: (now - 86_400_000_000)..<(now + 1)).events { changes[e.target, default: 0] += 1 }
        // The newest run of each target: the last day is enough for any interval the monitor takes.
        let newest = snap.runs(of: ids.map { ($0, (now - 86_400_000_000)..<(now + 1)) }, fields: []).tables
        let firing = Dictionary(grouping: alerts?.activeAlerts.filter { $0.state == .firing } ?? [], by: \.key.target)
        for id in ids {
            guard let name = snap.catalog.name(of: id) else { continue }
            let labels = [("target", name)]
            if let run = newest[id]?.runs.last {
                registry.makeGauge(descriptor: Self.name("path_id", unit: "", help: "Dictionary id of the newest run's path."), labels: labels)
                    .set(Double(run.path.rawValue))
            }
            registry.makeGauge(descriptor: Self.name("path_changes_24h", unit: "", help: "Path-change events in the last 24 hours."), labels: labels)
                .set(Double(changes[id] ?? 0))
            registry.makeGauge(descriptor: Self.name("alerts_firing", unit: "", help: "Firing alerts of the target."), labels: labels)
                .set(Double(firing[name]?.count ?? 0))
        }
    }
}

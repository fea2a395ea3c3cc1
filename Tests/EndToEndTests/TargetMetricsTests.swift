import Foundation
import PathTSDB
import Probe
import Prometheus
import Testing

@testable import stserver

/// The per-target and per-hop series of `/metrics`, from runs of known shape.
@Suite struct TargetMetricsTests {
    static let targets = """
        groups:
          - name: core
            hop_metrics: true
            targets:
              - { name: gw, address: 192.0.2.9 }
              - { name: quiet, address: 192.0.2.8, hop_metrics: false }
        """

    /// A run to 192.0.2.9 through a router that answers (TTL 1), one that never does (TTL 2), a
    /// load-balanced hop (TTL 3: two addresses) and a destination that loses one probe in four.
    static func run(target: String, minute: Int64) throws -> TraceRun {
        let dst = try #require(IPAddress("192.0.2.9"))
        func reply(_ ttl: UInt8, _ address: String, _ rtt: UInt32) throws -> ProbeReply {
            let parsed = try #require(IPAddress(address))
            return ProbeReply(ttl: ttl, address: parsed, rttMicros: rtt, replyTTL: 60, icmpType: 11)
        }
        var probes = [ProbeReply]()
        for _ in 0..<4 { probes.append(try reply(1, "10.0.0.1", 1_000)) }
        for _ in 0..<4 { probes.append(.lost(ttl: 2)) }
        probes += [try reply(3, "10.0.3.1", 3_000), try reply(3, "10.0.3.2", 3_000), try reply(3, "10.0.3.1", 3_000), .lost(ttl: 3)]
        for _ in 0..<3 { probes.append(ProbeReply(ttl: 4, address: dst, rttMicros: 20_000, replyTTL: 60, icmpType: 0)) }
        probes.append(.lost(ttl: 4))
        return TraceRun(target: target, vantage: "v", method: .icmpParis, flowID: 1, startMicros: minute * 60_000_000,
                        endMicros: minute * 60_000_000 + 1, destination: dst, reached: true, probes: probes)
    }

    static func exposition(_ registry: PrometheusCollectorRegistry) -> [String: Double] {
        var out = [String: Double]()
        for line in String(decoding: registry.emitToBuffer(), as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }

    @Test func hopSeriesFollowTheTargetsFileAndTellSilentHopsFromLoss() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = TargetMetrics(registry: registry)
        metrics.configure(try TargetConfiguration.parse(Self.targets))
        for minute in 0..<2 {
            metrics.observe(try Self.run(target: "core/gw", minute: Int64(minute)))
            metrics.observe(try Self.run(target: "core/quiet", minute: Int64(minute)))
        }
        let m = Self.exposition(registry)
        // End to end: the destination's probes only; the silent router does not count.
        #expect(m[#"smoketrace_target_probes_sent_total{target="core/gw"}"#] == 8)
        #expect(m[#"smoketrace_target_probes_lost_total{target="core/gw"}"#] == 2)
        #expect(m[#"smoketrace_target_hops{target="core/gw"}"#] == 4)
        // Per hop, labelled by TTL: the silent router's probes are all unanswered and it has no
        // responder; the balanced hop has two; RTTs only from replies.
        #expect(m[#"smoketrace_hop_probes_sent_total{target="core/gw",ttl="2"}"#] == 8)
        #expect(m[#"smoketrace_hop_probes_unanswered_total{target="core/gw",ttl="2"}"#] == 8)
        #expect(m[#"smoketrace_hop_responders{target="core/gw",ttl="2"}"#] == 0)
        #expect(m[#"smoketrace_hop_rtt_seconds_count{target="core/gw",ttl="2"}"#] == 0)
        #expect(m[#"smoketrace_hop_probes_unanswered_total{target="core/gw",ttl="1"}"#] == 0)
        #expect(m[#"smoketrace_hop_rtt_seconds_count{target="core/gw",ttl="1"}"#] == 8)
        #expect(m[#"smoketrace_hop_responders{target="core/gw",ttl="3"}"#] == 2)
        #expect(m[#"smoketrace_hop_probes_unanswered_total{target="core/gw",ttl="3"}"#] == 2)
        #expect(m[#"smoketrace_hop_rtt_seconds_count{target="core/gw",ttl="4"}"#] == 6)
        let sum = try #require(m[#"smoketrace_hop_rtt_seconds_sum{target="core/gw",ttl="4"}"#])
        #expect(abs(sum - 6 * 0.020) < 1e-9)
        // Nothing past the destination's TTL, and nothing per hop for a target that did not ask.
        #expect(!m.keys.contains { $0.contains(#"ttl="5""#) })
        #expect(!m.keys.contains { $0.hasPrefix("smoketrace_hop_") && $0.contains("core/quiet") })
        #expect(m[#"smoketrace_target_probes_sent_total{target="core/quiet"}"#] == 8)
    }

    @Test func aReloadThatTurnsHopSeriesOffStopsCountingThem() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = TargetMetrics(registry: registry)
        metrics.configure(try TargetConfiguration.parse(Self.targets))
        metrics.observe(try Self.run(target: "core/gw", minute: 0))
        metrics.configure(try TargetConfiguration.parse(Self.targets.replacingOccurrences(of: "hop_metrics: true", with: "hop_metrics: false")))
        metrics.observe(try Self.run(target: "core/gw", minute: 1))
        let m = Self.exposition(registry)
        #expect(m[#"smoketrace_hop_probes_sent_total{target="core/gw",ttl="1"}"#] == 4)
        #expect(m[#"smoketrace_target_probes_sent_total{target="core/gw"}"#] == 8)
    }
}

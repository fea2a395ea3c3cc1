import Foundation
import PathTSDB
import Testing

@testable import Alerting

/// A round judges most targets without evidence (the quick evaluation) and asks again, detailed,
/// only where an alert needs it; the two must agree on what the tracker reads.
@Suite struct ConditionEvaluatorTests {
    static let rules = """
        rules:
          - { name: path, when: { path_changed: {} } }
          - { name: path-lasting, when: { path_changed: { lasting: 3, ignore_first: 1 } } }
          - { name: path-ttl, when: { path_changed: { ttls: "3..3" } } }
          - { name: longer, when: { hop_count_grew: { by: 1 } } }
          - { name: unreachable, when: { destination_unreachable: true } }
          - { name: new-address, when: { new_address: { history_runs: 10 } } }
          - { name: rtt-dest, when: { rtt_increase: { hop: destination, by_ms: 20, baseline: { runs: 5 } } } }
          - { name: rtt-any, when: { rtt_increase: { hop: any, by_ms: 20, baseline: { runs: 5 } } } }
          - { name: rtt-hop, when: { rtt_increase: { hop: 3, by_percent: 50, baseline: { runs: 5 } } } }
          - { name: loss-dest, when: { loss: { percent: 30, runs: 3 } } }
          - { name: loss-hop, when: { loss: { hop: 2, percent: 30, runs: 3 } } }
          - { name: pattern, when: { pattern: { loss: ">10%,*2*,>10%" } } }
          - { name: flapping, when: { flapping: { changes: 3, within: 30m } } }
        """

    /// Forty-two runs of one target through every shape the rules look at: a steady path, a blip,
    /// a change that lasts, a longer path, a slow link from TTL 3, a router that rate-limits, loss
    /// at the destination, loss from TTL 2 on, an unreachable destination, and flapping.
    static func series() -> [TraceRun] {
        let a: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [3, 3, 3], [99, 99, 99]]
        let b: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [13, 13, 13], [99, 99, 99]]
        let longer: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [13, 13, 13], [14, 14, 14], [99, 99, 99]]
        let rateLimited: [[UInt32?]] = [[1, 1, 1], [2, nil, nil], [13, 13, 13], [99, 99, 99]]
        let lossy: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [13, 13, 13], [99, nil, nil]]
        let lossyFrom2: [[UInt32?]] = [[1, 1, 1], [2, nil, nil], [13, nil, nil], [99, nil, nil]]
        let unreachable: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [13, 13, 13], [nil, nil, nil]]
        var shapes: [([[UInt32?]], UInt32)] = Array(repeating: (a, 0), count: 8)
        shapes += [(b, 0), (a, 0), (a, 0)]                     // a blip
        shapes += Array(repeating: (b, 0), count: 6)           // a change that lasts
        shapes += [(longer, 0), (longer, 0), (b, 0)]
        shapes += Array(repeating: (b, 40_000), count: 4)      // 40 ms more from TTL 3
        shapes += Array(repeating: (rateLimited, 0), count: 3)
        shapes += Array(repeating: (lossy, 0), count: 4)
        shapes += Array(repeating: (lossyFrom2, 0), count: 3)  // loss from TTL 2 on
        shapes += [(unreachable, 0), (unreachable, 0)]
        shapes += [(a, 0), (b, 0), (a, 0), (b, 0), (a, 0), (b, 0)]  // flapping
        return shapes.enumerated().map { minute, shape in
            var r = AlertEngineTests.run(minute, shape.0)
            r.probes = r.probes.map { p in var q = p; if p.ttl >= 3 && p.address != nil { q.rttMicros += shape.1 }; return q }
            return r
        }
    }

    /// The series stored and read back as the engine reads a target: its runs summarised, its
    /// path-change events.
    static func seriesHistory() throws -> (history: TargetHistory, id: TargetID) {
        let dir = AlertEngineTests.Directory()
        let store = try AlertEngineTests.store(dir)
        defer { try? store.close() }
        for r in series() { try store.append([r]) }
        let snap = store.snapshot()
        let id = try #require(snap.catalog.targetID(named: "lab/a"))
        let range = (AlertEngineTests.t0 - 1)..<(AlertEngineTests.t0 + 3_600_000_000)
        let table = try #require(snap.runs(of: [(id, range)]).tables[id])
        let history = TargetHistory(target: "lab/a", tags: [], runs: RunSummary.summaries(of: table, catalog: snap.catalog),
                                    events: snap.events(in: range).events.filter { $0.target == id }, weekAgo: [], catalog: snap.catalog)
        return (history, id)
    }

    @Test func theQuickAndTheDetailedEvaluationAgree() throws {
        let (history, _) = try Self.seriesHistory()
        #expect(history.runs.count == Self.series().count && history.events.count >= 10)
        var quick = ConditionEvaluator(history: history)
        quick.detailed = false
        let full = ConditionEvaluator(history: history)
        for rule in try RulesFile.parse(Self.rules, source: "test").rules {
            var held = 0, judged = 0
            for i in history.runs.indices {
                let q = quick.evaluate(rule.condition, at: i), f = full.evaluate(rule.condition, at: i)
                #expect((q == nil) == (f == nil), "\(rule.name) at run \(i)")
                guard let q, let f else { continue }
                judged += 1
                if f.holds { held += 1 }
                #expect(q.holds == f.holds && q.hop == f.hop && q.blip == f.blip, "\(rule.name) at run \(i): \(q) against \(f)")
                #expect(q.value == f.value || (q.value.isNaN && f.value.isNaN), "\(rule.name) at run \(i): \(q.value) against \(f.value)")
                #expect(q.evidence == nil, "\(rule.name): a quick finding carries no evidence")
            }
            // Every rule both holds and does not somewhere in the series, so agreement means something.
            #expect(held > 0 && held < judged, "\(rule.name): held at \(held) of \(judged) runs")
        }
    }

    /// The engine's cache keeps hops only for the runs a target's rules read them from
    /// (`needHopRuns`); older runs keep their end-to-end figures. Every rule, judged at every run
    /// with every older run slimmed that way, finds exactly what it finds with all hops kept.
    @Test func runsSlimmedBeyondTheHopWindowChangeNoFinding() throws {
        let (full, id) = try Self.seriesHistory()
        var slimmedAny = 0
        for rule in try RulesFile.parse(Self.rules, source: "test").rules {
            let plan = AlertEngine.TargetPlan(target: AlertTarget(name: "lab/a", intervalMicros: 60_000_000), id: id, rules: [rule],
                                              watermark: .min, now: AlertEngineTests.t0)
            for i in full.runs.indices {
                var slim = full
                // As the cache holds them after the round that judged run i - 1.
                for j in slim.runs.indices where j < i - 1 - (plan.needHopRuns + 1) { slim.runs[j].dropHops() }
                slimmedAny += slim.runs.filter { !$0.holdsHops }.count
                let f = ConditionEvaluator(history: full).evaluate(rule.condition, at: i)
                let g = ConditionEvaluator(history: slim).evaluate(rule.condition, at: i)
                #expect((f == nil) == (g == nil), "\(rule.name) at run \(i)")
                guard let f, let g else { continue }
                #expect(f.holds == g.holds && f.hop == g.hop && f.blip == g.blip && f.detail == g.detail, "\(rule.name) at run \(i): \(f) against \(g)")
                #expect(f.value == g.value || (f.value.isNaN && g.value.isNaN), "\(rule.name) at run \(i)")
                #expect(f.evidence == g.evidence, "\(rule.name) at run \(i): the evidence differs")
            }
        }
        #expect(slimmedAny > 0, "nothing was slimmed, so nothing was compared")
    }

    /// The monitor hands the engine the table `append` returned; other writers only say which
    /// targets have new runs. Both ways, the engine raises the same alerts at the same runs.
    @Test func runsHandedOverAndRunsReadBackRaiseTheSameAlerts() throws {
        func transitions(handOver: Bool) throws -> (alerts: [String], fromTables: Int) {
            let dir = AlertEngineTests.Directory()
            let store = try AlertEngineTests.store(dir)
            defer { try? store.close() }
            let engine = try AlertEngine(store: store, rules: try RulesFile.parse(Self.rules, source: "test"))
            var out = [String]()
            for (i, run) in Self.series().enumerated() {
                let table = try store.append([run])
                // Every fourth round is skipped: the next one judges two runs at once.
                if handOver { engine.markStored(target: run.target, table) } else { engine.markDirty([run.target]) }
                guard i % 4 != 3 else { continue }
                out += engine.evaluate(targets: [AlertTarget(name: run.target, intervalMicros: 60_000_000)], now: run.endMicros)
                    .map { "\($0.rule) \($0.state) \($0.timeMicros) \($0.hop) \($0.annotations)" }
            }
            return (out, engine.judgedFrom.tables)
        }
        let handed = try transitions(handOver: true), read = try transitions(handOver: false)
        #expect(handed.alerts.count >= 10, "\(handed)")
        #expect(handed.alerts == read.alerts)
        // Handed over, every round but the first (nothing cached yet) judged from the tables.
        #expect(handed.fromTables >= 25 && read.fromTables == 0, "\(handed.fromTables)")
    }
}

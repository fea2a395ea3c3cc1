import Foundation
import PathTSDB
import Yams

/// Rule unit tests, as `promtool test rules` runs Prometheus's: a file names a rules file and
/// lists tests, each a series of runs of one target and the alerts they must raise. Each test
/// runs in a store of its own, through the same engine the server uses.
///
/// ```yaml
/// rules: rules.yaml                # relative to this file
/// tests:
///   - name: a route flip fires once and resolves
///     target: core/gw              # default test/target
///     interval: 1m                 # between runs (default 1m)
///     runs:
///       - { count: 5, hops: [10.0.0.1, 10.0.0.2, 192.0.2.9] }
///       - { count: 3, hops: [10.0.0.1, 10.0.0.3, 192.0.2.9], rtt_ms: 40, lost: 1 }
///     alerts:
///       - { rule: path-changed, state: firing, run: 6 }
///       - { rule: path-changed, state: resolved, run: 9 }
/// ```
///
/// A run has three probes a hop; `*` is a hop that does not answer; the last hop is the
/// destination unless the test names another (`destination:`), so a run whose last hop is `*`
/// did not reach it. `rtt_ms` is the RTT at the destination (default 10), each hop before it
/// proportionally less; `lost` probes of three at the destination go unanswered. The alerts
/// listed must be exactly the firing, resolved and blip transitions raised, each at its run
/// (1-based over the whole series).
package struct RuleTestFile: Sendable {
    package struct RunBlock: Sendable {
        var count: Int
        var hops: [String]
        var rttMillis: Double
        var lost: Int
    }

    package struct Expected: Sendable, Equatable, CustomStringConvertible {
        package var rule: String
        package var state: String
        package var run: Int
        package var description: String { "\(rule) \(state) at run \(run)" }
    }

    package struct Case: Sendable {
        package var name: String
        var target: String
        var tags: [String]
        var intervalMicros: Int64
        var destination: String?
        var runs: [RunBlock]
        package var expected: [Expected]
    }

    /// The outcome of one test.
    package struct Outcome: Sendable {
        package var name: String
        package var missing: [Expected]
        package var unexpected: [Expected]
        package var passed: Bool { missing.isEmpty && unexpected.isEmpty }
    }

    package var rulesPath: String
    package var rules: RulesFile
    package var cases: [Case]

    /// Reads a test file and the rules file it names.
    package static func load(_ path: String) throws(AlertingError) -> RuleTestFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw AlertingError(.io, "cannot read \(path): \(error.localizedDescription)")
        }
        guard let root = try composeYAML(text, source: path) else { throw AlertingError(.invalidRules, "no tests", source: path) }
        let top = try YAMLFields(root, source: path, what: "the test file")
        try top.only(["rules", "tests"])
        let named = try top.requiredString("rules")
        let rulesPath = named.hasPrefix("/") ? named : (path as NSString).deletingLastPathComponent + "/" + named
        let rulesText: String
        do { rulesText = try String(contentsOfFile: rulesPath, encoding: .utf8) } catch {
            throw top.error("cannot read the rules file \(rulesPath): \(error.localizedDescription)", at: top["rules"])
        }
        var rules = try RulesFile.parse(rulesText, source: rulesPath)
        // Tests judge; they deliver nothing.
        rules.receivers = []
        rules.routes = []
        var cases = [Case]()
        for node in try top.list("tests") {
            var f = try YAMLFields(node, source: path, what: "a test")
            let name = try f.requiredString("name")
            f = try YAMLFields(node, source: path, what: "test '\(name)'")
            try f.only(["name", "target", "tags", "interval", "destination", "runs", "alerts"])
            var c = Case(name: name, target: try f.string("target") ?? "test/target", tags: try f.strings("tags"),
                         intervalMicros: try f.duration("interval") ?? 60_000_000, destination: try f.string("destination"),
                         runs: [], expected: [])
            for r in try f.list("runs") {
                let rf = try YAMLFields(r, source: path, what: "test '\(name)' runs")
                try rf.only(["count", "hops", "rtt_ms", "lost"])
                let hops = try rf.strings("hops")
                guard !hops.isEmpty else { throw rf.error("\(rf.what): hops is required") }
                for h in hops where h != "*" && IPAddress(h) == nil {
                    throw rf.error("\(rf.what): '\(h)' is not an IP address or *", at: rf["hops"])
                }
                c.runs.append(RunBlock(count: try rf.int("count", in: 1...100_000) ?? 1, hops: hops,
                                       rttMillis: try rf.double("rtt_ms", in: 0...60_000) ?? 10, lost: try rf.int("lost", in: 0...3) ?? 0))
            }
            for a in try f.list("alerts") {
                let af = try YAMLFields(a, source: path, what: "test '\(name)' alerts")
                try af.only(["rule", "state", "run"])
                let rule = try af.requiredString("rule")
                guard rules.rules.contains(where: { $0.name == rule }) else {
                    throw af.error("\(af.what): no rule '\(rule)' in \(rulesPath)", at: af["rule"])
                }
                let state = try af.requiredString("state")
                guard ["firing", "resolved", "blip"].contains(state) else {
                    throw af.error("\(af.what): state must be firing, resolved or blip", at: af["state"])
                }
                guard let run = try af.int("run", in: 1...10_000_000) else { throw af.error("\(af.what): run is required") }
                c.expected.append(Expected(rule: rule, state: state, run: run))
            }
            cases.append(c)
        }
        return RuleTestFile(rulesPath: rulesPath, rules: rules, cases: cases)
    }

    /// Runs every test, each in a store of its own under a temporary directory.
    package func run() throws -> [Outcome] {
        try cases.map { try run($0) }
    }

    private func run(_ c: Case) throws -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("smoketrace-rule-test-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = StoreOptions()
        options.walSync = .never
        let store = try PathStore(directory: dir, options: options)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: rules)
        let target = AlertTarget(name: c.target, tags: c.tags, intervalMicros: c.intervalMicros)
        let destinationText = c.destination ?? c.runs.first?.hops.last ?? "*"
        guard let destination = IPAddress(destinationText) else {
            throw AlertingError(.invalidRules, "test '\(c.name)': name the destination (destination:) when the first runs' last hop is *")
        }
        // Runs start at 2026-01-01T00:00:00Z, an interval apart.
        var start: Int64 = 1_767_225_600_000_000
        var raised = [Expected]()
        var index = 0
        var startOfRun = [Int64: Int]()
        for block in c.runs {
            for _ in 0..<block.count {
                index += 1
                startOfRun[start] = index
                var probes = [ProbeReply]()
                for (i, hop) in block.hops.enumerated() {
                    let ttl = UInt8(i + 1)
                    let rtt = UInt32(block.rttMillis * 1000 * Double(i + 1) / Double(block.hops.count))
                    let isLast = i == block.hops.count - 1
                    for p in 0..<3 {
                        guard let a = IPAddress(hop), !(isLast && p < block.lost) else {
                            probes.append(.lost(ttl: ttl))
                            continue
                        }
                        probes.append(ProbeReply(ttl: ttl, address: a, rttMicros: rtt, replyTTL: 60,
                                                 icmpType: a == destination ? 3 : 11, icmpCode: a == destination ? 3 : 0))
                    }
                }
                let run = TraceRun(target: c.target, vantage: "rules-test", method: .udpParis, flowID: 1, startMicros: start,
                                   endMicros: start + 1_000_000, destination: destination,
                                   reached: probes.contains { $0.address == destination }, probes: probes)
                try store.append([run])
                engine.markDirty([c.target])
                for t in engine.evaluate(targets: [target], now: run.endMicros) where [.firing, .resolved, .blip].contains(t.state) {
                    raised.append(Expected(rule: t.rule, state: t.state.description, run: startOfRun[t.timeMicros] ?? index))
                }
                start += c.intervalMicros
            }
        }
        return Outcome(name: c.name, missing: c.expected.filter { !raised.contains($0) },
                       unexpected: raised.filter { !c.expected.contains($0) })
    }
}

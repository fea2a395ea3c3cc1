import Alerting
import Foundation
import PathTSDB
import Testing
@testable import Probe

/// The alert rules proved with real packets: the native Paris prober traces through the lab,
/// every run is stored and judged as the monitor does, and each case raises exactly what it
/// should — or nothing.
@Suite(.serialized, .needsRoot) struct LabAlertTests {
    static let rules = """
        rules:
          - name: path
            when: { path_changed: {} }
          - name: dest-loss
            when: { loss: { percent: 10, runs: 5 } }
          - name: hop2-loss
            when: { loss: { hop: 2, percent: 10, runs: 5 } }
          - name: slower
            when: { rtt_increase: { hop: any, by_ms: 30, baseline: { runs: 10 } } }
            for: 2
        """

    /// A store, an engine over it, and the prober tracing from the lab's source.
    final class Bench {
        let lab: NetworkLab
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-lab-alerts-\(UUID().uuidString)").path
        let store: PathStore
        let engine: AlertEngine
        let prober: NativeProber
        var transitions: [AlertTransition] = []

        init() throws {
            lab = try NetworkLab()
            var o = StoreOptions()
            o.walSync = .never
            store = try PathStore(directory: dir, options: o)
            engine = try AlertEngine(store: store, rules: try RulesFile.parse(LabAlertTests.rules, source: "lab rules"))
            prober = NativeProber(namespace: lab.ns(.src))
        }

        /// Traces `count` times (udp-paris, 3 probes a hop, a pinned flow: each run the next of
        /// `flows`), storing and judging each run.
        func trace(_ count: Int, flows: [UInt16] = [4242]) async throws {
            var s = TraceSettings(method: .udpParis)
            s.probesPerHop = 3
            s.maxTTL = 6
            s.waitMilliseconds = 500
            s.flowID = 4242
            let target = try TargetName(NetworkLab.dst)
            for i in 0..<count {
                s.flowID = flows[i % flows.count]
                let result = try await prober.trace(target, settings: s)
                let run = try #require(result.run(target: "lab/dst", vantage: "lab-src", method: .udpParis))
                try store.append([run])
                engine.markDirty([run.target])
                transitions += engine.evaluate(targets: [AlertTarget(name: "lab/dst", intervalMicros: 60_000_000)])
            }
        }

        func raised(_ rule: String) -> [AlertTransition] { transitions.filter { $0.rule == rule && $0.state != .pending } }

        func finish() {
            prober.shutdown()
            try? store.close()
            lab.tearDown()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test func aRouteFlipFiresOnceWithTheHopsAndResolvesWhenItFlipsBack() async throws {
        let b = try Bench()
        defer { b.finish() }
        try await b.trace(5)
        try b.lab.route(via: .r2b)
        try await b.trace(4)
        let flipped = b.transitions.count
        try b.lab.route(via: .r2)
        try await b.trace(3)
        let path = b.raised("path")
        #expect(path.map(\.state) == [.firing, .resolved], "\(b.transitions.map { "\($0.rule) \($0.state)" })")
        let runs = b.store.snapshot().runs(of: try #require(b.store.snapshot().catalog.targetID(named: "lab/dst")), in: Int64.min..<Int64.max).table.runs
        // Within one interval: raised on the first run over r2b, resolved on the first back over r2.
        #expect(path.first?.timeMicros == runs[5].startMicros)
        #expect(path.last?.timeMicros == runs[9].startMicros)
        #expect(b.transitions.prefix(flipped).filter { $0.rule == "path" && $0.state == .firing }.count == 1)
        let evidence = try JSONDecoder().decode(AlertEvidence.self, from: Data(try #require(path.first).evidence.utf8))
        #expect(evidence.diff?.filter { $0.change != "same" }.map { "\($0.ttl) \($0.old) \($0.new)" } == ["2 \(NetworkLab.r2) \(NetworkLab.r2b)"])
        #expect(evidence.newPath?.map(\.address) == [NetworkLab.r1, NetworkLab.r2b, NetworkLab.dst])
        #expect(b.raised("dest-loss").isEmpty && b.raised("hop2-loss").isEmpty && b.raised("slower").isEmpty)
    }

    @Test func anECMPPairUnderParisProbingFiresNothingOver50Runs() async throws {
        let b = try Bench()
        defer { b.finish() }
        try b.lab.ecmp()
        // Eight flows in turn, as Atlas rotates its Paris ids: each flow keeps its branch, and
        // the flows between them take both.
        try await b.trace(52, flows: [4242, 4243, 4244, 4245, 4246, 4247, 4248, 4249])
        let id = try #require(b.store.snapshot().catalog.targetID(named: "lab/dst"))
        let table = b.store.snapshot().runs(of: id, in: Int64.min..<Int64.max).table
        let second = Set(table.probes.filter { $0.ttl == 2 && !$0.isLoss }.compactMap { b.store.snapshot().catalog.address(of: $0.address)?.description })
        #expect(second == [NetworkLab.r2, NetworkLab.r2b], "both branches were used, or this test proves nothing")
        #expect(b.transitions.isEmpty, "\(b.transitions.map { "\($0.rule) \($0.state)" })")
    }

    @Test func aRouterDroppingAFifthOfItsRepliesFiresNothing() async throws {
        let b = try Bench()
        defer { b.finish() }
        // r2 sends no time-exceeded for one probe in five; the destination answers every probe.
        try b.lab.run("ip", "netns", "exec", b.lab.ns(.r2), "nft",
                      "add table inet lab; add chain inet lab out { type filter hook output priority 0; }; add rule inet lab out icmp type time-exceeded numgen random mod 5 == 0 drop")
        try await b.trace(30)
        // The lab did drop r2's replies (or this test proves nothing).
        let id = try #require(b.store.snapshot().catalog.targetID(named: "lab/dst"))
        let probes = b.store.snapshot().runs(of: id, in: Int64.min..<Int64.max).table.probes
        #expect(probes.filter { $0.ttl == 2 && $0.isLoss }.count >= 5)
        #expect(probes.filter { $0.ttl == 3 && $0.isLoss }.isEmpty)
        #expect(b.transitions.isEmpty, "\(b.transitions.map { "\($0.rule) \($0.state)" })")
    }

    @Test func lossAtTheDestinationFiresTheLossRule() async throws {
        let b = try Bench()
        defer { b.finish() }
        try await b.trace(5)
        // r2 drops half of what it forwards: probes to the destination and its replies alike.
        try b.lab.dropAtR2(oneIn: 2)
        try await b.trace(10)
        #expect(b.raised("dest-loss").map(\.state) == [.firing])
        #expect(b.raised("path").isEmpty)
        let e = try JSONDecoder().decode(AlertEvidence.self, from: Data(try #require(b.raised("dest-loss").first).evidence.utf8))
        #expect(e.firstHop == 3, "the loss starts at the destination: r2 itself answers")
    }

    @Test func fiftyMillisecondsOnOneLinkFiresTheLatencyRuleNamingTheHopAfterIt() async throws {
        let b = try Bench()
        defer { b.finish() }
        try await b.trace(12)
        // 50 ms on every packet r2 forwards to dst: the link between hop 2 and hop 3.
        try b.lab.delay(milliseconds: 50)
        try await b.trace(3)
        let slower = b.raised("slower")
        #expect(slower.map(\.state) == [.firing], "\(b.transitions.map { "\($0.rule) \($0.state)" })")
        let e = try JSONDecoder().decode(AlertEvidence.self, from: Data(try #require(slower.first).evidence.utf8))
        #expect(e.firstHop == 3)
        #expect(b.raised("path").isEmpty && b.raised("dest-loss").isEmpty)
    }
}

import Alerting
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PathTSDB
import Synchronization
import Testing

/// The engine over a real store: runs go in as a tracer's would, rules judge them, transitions
/// are stored, and notifications reach a real HTTP receiver on loopback.
@Suite struct AlertEngineTests {
    static func addr(_ n: UInt32) -> IPAddress { IPAddress(v4: 0x0A00_0000 | n) }
    static let destination = addr(99)
    static let t0: Int64 = 1_795_000_000_000_000

    /// One Paris run: per TTL, the address each of 3 probes heard (nil: lost), RTT 1 ms a hop plus `extra`.
    static func run(_ minute: Int, _ hops: [[UInt32?]], extraMicros: UInt32 = 0, target: String = "lab/a") -> TraceRun {
        var probes = [ProbeReply]()
        for (i, answers) in hops.enumerated() {
            for a in answers {
                probes.append(a.map { ProbeReply(ttl: UInt8(i + 1), address: addr($0), rttMicros: 1000 * UInt32(i + 1) + extraMicros, replyTTL: 60,
                                                 icmpType: $0 == 99 ? 3 : 11, icmpCode: $0 == 99 ? 3 : 0) } ?? .lost(ttl: UInt8(i + 1)))
            }
        }
        let start = t0 + Int64(minute) * 60_000_000
        return TraceRun(target: target, vantage: "v", method: .udpParis, flowID: 7, startMicros: start, endMicros: start + 1_000_000,
                        destination: destination, reached: probes.contains { $0.address == destination }, probes: probes)
    }

    static let pathA: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [3, 3, 3], [99, 99, 99]]
    static let pathB: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [13, 13, 13], [99, 99, 99]]

    final class Directory: Sendable {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-alert-\(UUID().uuidString)").path
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func store(_ dir: Directory) throws -> PathStore {
        var o = StoreOptions()
        o.walSync = .never
        return try PathStore(directory: dir.path, options: o)
    }

    static func rules(_ yaml: String) throws -> RulesFile { try RulesFile.parse(yaml, source: "test") }

    /// Appends `runs` one by one, evaluating after each as the monitor does.
    static func feed(_ runs: [TraceRun], store: PathStore, engine: AlertEngine) throws -> [AlertTransition] {
        var out = [AlertTransition]()
        for r in runs {
            try store.append([r])
            engine.markDirty([r.target])
            out += engine.evaluate(targets: [AlertTarget(name: r.target, intervalMicros: 60_000_000)], now: r.endMicros)
        }
        return out
    }

    @Test func aRouteFlipFiresOnceWithItsDiffAndResolvesWhenItFlipsBack() throws {
        let dir = Directory()
        let store = try Self.store(dir)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: try Self.rules("rules:\n  - name: pc\n    when: { path_changed: {} }\n"))
        var runs = (0..<10).map { Self.run($0, Self.pathA) }
        runs += (10..<15).map { Self.run($0, Self.pathB) }
        runs += (15..<20).map { Self.run($0, Self.pathA) }
        let ts = try Self.feed(runs, store: store, engine: engine)
        let shown = ts.filter { $0.state == .firing || $0.state == .resolved }
        #expect(shown.map(\.state) == [.firing, .resolved], "\(ts.map { "\($0.state)@\(($0.timeMicros - Self.t0) / 60_000_000)" })")
        let firing = try #require(shown.first)
        #expect(firing.timeMicros == runs[10].startMicros)
        #expect(shown.last?.timeMicros == runs[15].startMicros)
        let evidence = try JSONDecoder().decode(AlertEvidence.self, from: Data(firing.evidence.utf8))
        #expect(evidence.diff?.filter { $0.change != "same" }.map { "\($0.ttl) \($0.old) \($0.new)" } == ["3 10.0.0.3 10.0.0.13"])
        #expect(evidence.oldPath?.map(\.address) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.99"])
        #expect(evidence.verdict?["hop_count"]?.verdict == "same")
        // One run on the new path so far: too few to judge the delay.
        #expect(evidence.verdict?["median_rtt_ms"]?.verdict.hasPrefix("unknown (too few runs") == true)
        // What was stored is what the engine said.
        let reopened = try store.openAlertLog()
        let stored = reopened.records.compactMap { if case .transition(let t) = $0 { t } else { nil } }
        #expect(stored == ts)
    }

    @Test func aChangeThatDoesNotLastIsABlipNotAnAlert() throws {
        let dir = Directory()
        let store = try Self.store(dir)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: try Self.rules("rules:\n  - name: pc\n    when: { path_changed: { lasting: 3 } }\n"))
        var runs = (0..<10).map { Self.run($0, Self.pathA) }
        runs.append(Self.run(10, Self.pathB))
        runs += (11..<16).map { Self.run($0, Self.pathA) }
        let ts = try Self.feed(runs, store: store, engine: engine)
        #expect(!ts.contains { $0.state == .firing })
        #expect(ts.filter { $0.state == .blip }.count == 1)
    }

    @Test func aRouterThatRateLimitsIsNotLossButTheDestinationLosingIs() throws {
        let dir = Directory()
        let store = try Self.store(dir)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: try Self.rules("""
            rules:
              - name: dest-loss
                when: { loss: { percent: 20, runs: 5 } }
              - name: hop2-loss
                when: { loss: { hop: 2, percent: 20, runs: 5 } }
            """))
        // Hop 2 answers one probe in three, every later hop answers all: ICMP rate limiting.
        let limited: [[UInt32?]] = [[1, 1, 1], [2, nil, nil], [3, 3, 3], [99, 99, 99]]
        var ts = try Self.feed((0..<20).map { Self.run($0, limited) }, store: store, engine: engine)
        #expect(ts.isEmpty, "\(ts.map { "\($0.rule) \($0.state)" })")
        // Now the destination loses two probes in three, and so does everything from hop 2 on.
        let lossy: [[UInt32?]] = [[1, 1, 1], [2, nil, nil], [3, nil, nil], [99, nil, nil]]
        ts = try Self.feed((20..<30).map { Self.run($0, lossy) }, store: store, engine: engine)
        let fired = ts.filter { $0.state == .firing }
        #expect(Set(fired.map(\.rule)) == ["dest-loss", "hop2-loss"])
        let evidence = try JSONDecoder().decode(AlertEvidence.self, from: Data(try #require(fired.first { $0.rule == "dest-loss" }).evidence.utf8))
        #expect(evidence.firstHop == 2)
    }

    /// Every probe at the destination's TTL lost, the tracer goes on, and the destination answers
    /// the probes of the next TTL: those are the destination again, not a hop that answers
    /// where the destination lost (the lab's lossy link did this on a loaded machine).
    @Test func lossAtTheDestinationStartsAtItsTTLWhenTheTracerWentOnPastIt() throws {
        let dir = Directory()
        let store = try Self.store(dir)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: try Self.rules("""
            rules:
              - name: dest-loss
                when: { loss: { percent: 60, runs: 2 } }
            """))
        var ts = try Self.feed((0..<10).map { Self.run($0, Self.pathA) }, store: store, engine: engine)
        #expect(ts.isEmpty)
        let wentOn: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [3, 3, 3], [nil, nil, nil], [99, 99, 99]]
        ts = try Self.feed((10..<15).map { Self.run($0, wentOn) }, store: store, engine: engine)
        let fired = try #require(ts.first { $0.state == .firing && $0.rule == "dest-loss" })
        let evidence = try JSONDecoder().decode(AlertEvidence.self, from: Data(fired.evidence.utf8))
        #expect(evidence.firstHop == 4)
        #expect(evidence.hops?.first { $0.ttl == 4 }?.lossNowPercent == 100)
        #expect(evidence.hops?.first { $0.ttl == 5 }?.lossNowPercent == nil, "TTL 5 is the destination again")
    }

    @Test func latencyRiseNamesTheFirstHopAfterTheSlowLink() throws {
        let dir = Directory()
        let store = try Self.store(dir)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: try Self.rules("""
            rules:
              - name: slow
                when: { rtt_increase: { by_ms: 30, baseline: { runs: 10 } } }
                for: 2
            """))
        var ts = try Self.feed((0..<15).map { Self.run($0, Self.pathA) }, store: store, engine: engine)
        #expect(ts.isEmpty)
        // 50 ms more from TTL 3 on (the link between hop 2 and hop 3).
        var runs = [TraceRun]()
        for m in 15..<18 {
            var r = Self.run(m, Self.pathA)
            r.probes = r.probes.map { p in var q = p; if p.ttl >= 3 && p.address != nil { q.rttMicros += 50_000 }; return q }
            runs.append(r)
        }
        ts = try Self.feed(runs, store: store, engine: engine)
        #expect(ts.map(\.state) == [.pending, .firing])
        let e = try JSONDecoder().decode(AlertEvidence.self, from: Data(try #require(ts.last).evidence.utf8))
        #expect(e.firstHop == 3)
        #expect(e.hops?.count == 4)
    }

    @Test func aFlappingConditionRaisesOneAlertAndResolvesOnlyWhenItSettles() throws {
        let dir = Directory()
        let store = try Self.store(dir)
        defer { try? store.close() }
        let engine = try AlertEngine(store: store, rules: try Self.rules("""
            rules:
              - name: unreachable
                when: { destination_unreachable: true }
                for: 2 of 3
                resolve_after: 3
              - name: flap
                when: { flapping: { changes: 4, within: 30m } }
            """))
        let silent: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [3, 3, 3], [nil, nil, nil]]
        // Reached, not, not, reached, not, reached, not, … then reached for good.
        let pattern = [true, false, false, true, false, true, false, true, false, true, true, true, true, true]
        var ts = try Self.feed(pattern.enumerated().map { Self.run($0.offset, $0.element ? Self.pathA : silent) }, store: store, engine: engine)
        let unreachable = ts.filter { $0.rule == "unreachable" && ($0.state == .firing || $0.state == .resolved) }
        #expect(unreachable.map(\.state) == [.firing, .resolved], "\(ts.map { "\($0.rule) \($0.state)" })")
        #expect(unreachable.last?.timeMicros == Self.run(11, Self.pathA).startMicros, "resolved at the third clean run in a row (9, 10, 11)")
        // A path flipping every other run: one flapping alert.
        var runs = [TraceRun]()
        for m in 20..<40 { runs.append(Self.run(m, (m / 2) % 2 == 0 ? Self.pathA : Self.pathB)) }
        ts = try Self.feed(runs, store: store, engine: engine)
        #expect(ts.filter { $0.rule == "flap" && $0.state == .firing }.count == 1, "\(ts.map { "\($0.rule) \($0.state)" })")
    }

    /// A loopback webhook that refuses the first attempt with 500, then takes them.
    actor Hook {
        var bodies: [String] = []
        var keys: [String] = []
        var refused = 0
        func take(_ body: String, key: String?) -> Bool {
            keys.append(key ?? "")
            if refused == 0 {
                refused += 1
                return false
            }
            bodies.append(body)
            return true
        }
    }

    @Test func notificationsAreRetriedDeliveredOnceAndNotResentAfterARestart() async throws {
        let hook = Hook()
        let router = Router()
        router.post("hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            return await hook.take(String(buffer: body), key: request.headers[HTTPField.Name("Idempotency-Key")!]) ? .ok : .internalServerError
        }
        let dir = Directory()
        try await withThrowingTaskGroup(of: Void.self) { group in
            let (stream, started) = AsyncStream<Int>.makeStream()
            let served = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                     onServerRunning: { started.yield($0.localAddress?.port ?? 0) })
            group.addTask { try await served.runService() }
            var it = stream.makeAsyncIterator()
            let p = await it.next() ?? 0
            let yaml = """
                rules:
                  - name: pc
                    when: { path_changed: {} }
                receivers:
                  - name: hook
                    webhook: { url: "http://127.0.0.1:\(p)/hook" }
                """
            let store = try Self.store(dir)
            let engine = try AlertEngine(store: store, rules: try Self.rules(yaml))
            var runs = (0..<5).map { Self.run($0, Self.pathA) }
            runs += (5..<8).map { Self.run($0, Self.pathB) }
            _ = try Self.feed(runs, store: store, engine: engine)
            #expect(engine.outbox.waiting.count == 1)
            // Deliver: the first attempt gets 500, the retry (after 1 s) is taken.
            let delivery = Task { await engine.run(targets: { [] }, tick: .milliseconds(50)) }
            for _ in 0..<100 where engine.outbox.counts["hook"]?.delivered != 1 { try await Task.sleep(for: .milliseconds(50)) }
            delivery.cancel()
            await delivery.value
            #expect(engine.outbox.counts["hook"]?.delivered == 1)
            #expect(engine.outbox.counts["hook"]?.failedAttempts == 1)
            let keys = await hook.keys
            #expect(keys.count == 2 && keys[0] == keys[1] && keys[0].hasPrefix("smoketrace-"), "the retry carries the same idempotency key")
            let body = try #require(await hook.bodies.first)
            let payload = try JSONDecoder().decode(NotificationPayload.self, from: Data(body.utf8))
            #expect(payload.status == "firing" && payload.alerts.first?.rule == "pc" && payload.alerts.first?.target == "lab/a")
            #expect(payload.alerts.first?.evidence?.diff?.contains { $0.change == "changed" && $0.ttl == 3 } == true)
            try store.close()
            // A restart: nothing is waiting, nothing is sent again, the alert still fires.
            let store2 = try Self.store(dir)
            let engine2 = try AlertEngine(store: store2, rules: try Self.rules(yaml))
            #expect(engine2.outbox.waiting.isEmpty)
            #expect(engine2.activeAlerts.map(\.state) == [.firing])
            _ = try Self.feed([Self.run(8, Self.pathB)], store: store2, engine: engine2)
            #expect(engine2.outbox.waiting.isEmpty)
            #expect(await hook.bodies.count == 1)
            try store2.close()
            group.cancelAll()
        }
    }
}

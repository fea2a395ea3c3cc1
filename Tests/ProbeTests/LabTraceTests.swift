import Foundation
import Testing
import PathTSDB
import Query
@testable import Probe

/// Real packets through a lab of network namespaces (tests run as root, as CI does).
@Suite(.serialized, .needsRoot) struct LabTraceTests {
    static let destination: TargetName = {
        do { return try TargetName(NetworkLab.dst) } catch { preconditionFailure("\(error)") }
    }()

    func settings(_ method: TraceMethod, probes: Int = 3, flow: UInt16? = nil) -> TraceSettings {
        var s = TraceSettings(method: method)
        s.probesPerHop = probes
        s.maxTTL = 6
        s.waitMilliseconds = 1000
        s.flowID = flow
        return s
    }

    static let toolsAndMethods: [(TracerTool, TraceMethod)] = [
        (.traceroute, .udp), (.traceroute, .icmp), (.traceroute, .tcp), (.tcptraceroute, .tcp),
        (.mtr, .icmp), (.mtr, .udp), (.scamper, .udpParis), (.scamper, .icmpParis),
        (.native, .udpParis), (.native, .icmpParis), (.native, .tcpParis),
    ]

    /// Traces from the lab's source: a system tool under `ip netns exec`, the native prober
    /// with its sockets made in the source namespace.
    func trace(_ tool: TracerTool, lab: NetworkLab, _ target: TargetName = LabTraceTests.destination,
               settings s: TraceSettings) async throws -> TracerResult {
        if tool == .native {
            let prober = NativeProber(namespace: lab.ns(.src))
            defer { prober.shutdown() }
            return try await prober.trace(target, settings: s)
        }
        return try await SystemTracer(tool: tool, commandPrefix: lab.fromSource).trace(target, settings: s)
    }

    @Test(arguments: toolsAndMethods)
    func everyToolSeesTheChain(_ tool: TracerTool, _ method: TraceMethod) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let result = try await trace(tool, lab: lab, settings: settings(method))
        let byTTL = Dictionary(grouping: result.output.probes, by: \.ttl)
        #expect(byTTL.keys.sorted() == [1, 2, 3], "\(tool) \(method): \(result.output.probes) \(result.standardError)")
        #expect(byTTL[1]?.compactMap(\.address).map(\.description) == Array(repeating: NetworkLab.r1, count: byTTL[1]?.count ?? 0))
        #expect(byTTL[2]?.allSatisfy { $0.address?.description == NetworkLab.r2 } == true)
        #expect(byTTL[3]?.allSatisfy { $0.address?.description == NetworkLab.dst } == true)
        #expect(result.output.reached)
        #expect(byTTL[1]?.count == 3)
    }

    /// Traces `count` times with a Paris tool (pinned flow) and stores the runs.
    func traceInto(_ store: PathStore, lab: NetworkLab, count: Int, probes: Int = 1, flow: UInt16? = 4242, tool: TracerTool = .scamper) async throws {
        for _ in 0..<count {
            let r = try await trace(tool, lab: lab, settings: settings(.udpParis, probes: probes, flow: flow))
            try store.append([try #require(r.run(target: "lab-dst", vantage: "lab-src", method: .udpParis))])
        }
    }

    static let parisTools: [TracerTool] = [.scamper, .native]

    func openStore() throws -> (PathStore, String) {
        let dir = NSTemporaryDirectory() + "/lab-store-\(UUID().uuidString)"
        var o = StoreOptions()
        o.walSync = .never
        return (try PathStore(directory: dir, options: o), dir)
    }

    @Test(arguments: parisTools)
    func oneRouteFlipIsExactlyOnePathChange(_ tool: TracerTool) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        try await traceInto(store, lab: lab, count: 4, tool: tool)
        try lab.route(via: .r2b)
        try await traceInto(store, lab: lab, count: 4, tool: tool)
        let snap = store.snapshot()
        let events = snap.events(in: Int64.min..<Int64.max).events
        #expect(events.count == 1)
        let e = try #require(events.first)
        #expect(e.firstDifferingTTL == 2 && e.oldHopCount == 3 && e.newHopCount == 3)
        #expect(snap.catalog.path(of: e.newPath)?.hops.compactMap { snap.catalog.address(of: $0)?.description } == [NetworkLab.r1, NetworkLab.r2b, NetworkLab.dst])
    }

    @Test(arguments: parisTools)
    func aSilentRouterIsUnresponsiveNotAChange(_ tool: TracerTool) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        try await traceInto(store, lab: lab, count: 2, tool: tool)
        try lab.silence(.r2)
        try await traceInto(store, lab: lab, count: 2, tool: tool)
        try lab.unsilence(.r2)
        try await traceInto(store, lab: lab, count: 2, tool: tool)
        let snap = store.snapshot()
        #expect(snap.events(in: Int64.min..<Int64.max).events.isEmpty)
        let paths = snap.catalog.paths.map { $0.hops.map { snap.catalog.address(of: $0)?.description ?? "*" } }
        #expect(Set(paths) == [[NetworkLab.r1, NetworkLab.r2, NetworkLab.dst], [NetworkLab.r1, "*", NetworkLab.dst]])
    }

    @Test(arguments: parisTools)
    func anECMPPairUnderParisProbingIsNoChange(_ tool: TracerTool) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.ecmp()
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        try await traceInto(store, lab: lab, count: 6, probes: 3, tool: tool)
        let snap = store.snapshot()
        #expect(snap.events(in: Int64.min..<Int64.max).events.isEmpty)
        // One flow, one branch: every probe of every run took the same path.
        #expect(snap.catalog.paths.count == 1)
        // Without a pinned flow, traceroute's changing ports do spread over both branches.
        let spread = try await SystemTracer(tool: .traceroute, commandPrefix: lab.fromSource)
            .trace(Self.destination, settings: settings(.udp, probes: 10))
        let hop2 = Set(spread.output.probes.filter { $0.ttl == 2 }.compactMap(\.address?.description))
        #expect(hop2 == [NetworkLab.r2, NetworkLab.r2b])
    }

    /// `count` traces by `tool`, `atOnce` at a time (mtr waits out a grace time after its last
    /// cycle), as runs of one target in the order they started.
    func runs(_ tool: TracerTool, _ method: TraceMethod, lab: NetworkLab, count: Int, target: TargetName = LabTraceTests.destination,
              atOnce: Int = 10) async throws -> [TraceRun] {
        var out = [TraceRun]()
        let s = settings(method)
        let prefix = lab.fromSource
        // One prober for every native trace, as the monitor has: probers of their own would
        // each see the others' replies on their raw sockets.
        let prober = NativeProber(namespace: lab.ns(.src))
        defer { prober.shutdown() }
        while out.count < count {
            let batch = min(atOnce, count - out.count)
            let results = try await withThrowingTaskGroup(of: TracerResult.self) { group in
                for _ in 0..<batch {
                    group.addTask {
                        guard tool == .native else { return try await SystemTracer(tool: tool, commandPrefix: prefix).trace(target, settings: s) }
                        return try await prober.trace(target, settings: s)
                    }
                }
                return try await group.reduce(into: [TracerResult]()) { $0.append($1) }
            }
            out += try results.map { try #require($0.run(target: "lab-dst", vantage: "lab-src", method: method), "\($0.standardError)") }
                .sorted { $0.startMicros < $1.startMicros }
        }
        return out
    }

    /// Each run's answering addresses per TTL, one line a run, for a failure's message.
    static func hopsByRun(_ runs: [TraceRun]) -> String {
        runs.map { run in
            let byTTL = Dictionary(grouping: run.probes, by: \.ttl)
            return "\(run.startMicros) flow \(run.flowID): " + byTTL.keys.sorted().map { ttl in
                "\(ttl)=" + (byTTL[ttl] ?? []).map { $0.address?.description ?? "*" }.joined(separator: ",")
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    static let everyToolAndMethod: [(TracerTool, TraceMethod)] = [
        (.traceroute, .udp), (.traceroute, .icmp), (.traceroute, .tcp), (.tcptraceroute, .tcp), (.mtr, .icmp), (.mtr, .udp),
        (.scamper, .udpParis), (.scamper, .icmpParis), (.native, .udpParis), (.native, .icmpParis), (.native, .tcpParis),
    ]

    /// Thirty traces through r1's per-flow ECMP pair with each tool: classic tracers spread their
    /// probes (or runs) over both branches, Paris tracers keep to one; none is a path change.
    @Test(arguments: everyToolAndMethod)
    func thirtyRunsThroughAnECMPPairAreNoChange(_ tool: TracerTool, _ method: TraceMethod) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.ecmp()
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let runs = try await runs(tool, method, lab: lab, count: 30)
        try store.append(runs)
        let snap = store.snapshot()
        let events = snap.events(in: Int64.min..<Int64.max).events
        #expect(events.isEmpty, "\(tool) \(method): \(events)\n\(Self.hopsByRun(runs))")
        #expect(runs.allSatisfy { $0.reached }, "\(tool) \(method): \(runs.filter { !$0.reached }.map(\.probes))")
        let branches = Set(runs.flatMap { $0.probes.filter { $0.ttl == 2 }.compactMap(\.address?.description) })
        if tool == .traceroute && method == .udp {
            // Each probe its own port: both branches show, within runs and across them.
            #expect(branches == [NetworkLab.r2, NetworkLab.r2b])
            #expect(snap.catalog.paths.contains { $0.isLoadBalanced })
        }
        if method.pinsFlow { #expect(branches.count == 1, "\(tool) \(method): \(branches)") }
    }

    /// r1 sends everything through r2, which balances over r3 and r3b; then everything through
    /// r2b and r3c: one change, naming TTL 2 and TTL 3.
    @Test(arguments: [(TracerTool.traceroute, TraceMethod.udp), (.traceroute, .icmp), (.tcptraceroute, .tcp), (.mtr, .udp),
                      (.scamper, .udpParis), (.native, .udpParis)])
    func aFlipOfTwoHopsBehindBalancersIsOneChange(_ tool: TracerTool, _ method: TraceMethod) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.nestedECMP()
        try lab.route(via: .r2)
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let before = try await runs(tool, method, lab: lab, count: 12)
        try store.append(before)
        try lab.route(via: .r2b)
        let after = try await runs(tool, method, lab: lab, count: 12)
        try store.append(after)
        let snap = store.snapshot()
        let events = snap.events(in: Int64.min..<Int64.max).events
        #expect(events.count == 1, "\(tool) \(method): \(events)\n\(Self.hopsByRun(before + after))")
        let e = try #require(events.first)
        let old = try #require(snap.catalog.path(of: e.oldPath)), new = try #require(snap.catalog.path(of: e.newPath))
        #expect(old.differingTTLs(to: new) == [2, 3], "\(tool) \(method)")
        #expect(e.firstDifferingTTL == 2 && e.timeMicros == after[0].startMicros)
        #expect(e.flags.contains(.loadBalanced) == !method.pinsFlow)
        func addresses(_ p: PathHops, _ ttl: Int) -> Set<String> { Set(p.addresses(atTTL: ttl).compactMap { snap.catalog.address(of: $0)?.description }) }
        #expect(addresses(new, 2) == [NetworkLab.r2b] && addresses(new, 3) == ["10.77.10.2"])
    }

    /// r2 sends no time-exceeded and drops a fifth of what it forwards: the router is silent
    /// (no loss figure), the destination's loss is the target's, and hop 1 loses nothing.
    @Test(arguments: [(TracerTool.traceroute, TraceMethod.udp), (.native, .udpParis)])
    func aSilentRouterBeforeALossyDestination(_ tool: TracerTool, _ method: TraceMethod) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.silence(.r2)
        try lab.dropAtR2(oneIn: 5)
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let traced = try await runs(tool, method, lab: lab, count: 30)
        try store.append(traced)
        let snap = store.snapshot()
        let context = QueryContext(nowMicros: WallClock.nowMicros())
        let hops = try QueryEngine.table("stats count, loss, reply_loss, silent of lab-dst hops 1..3 using raw", snapshot: snap, context: context)
        #expect(hops.columns == ["target", "ttl", "count", "loss", "reply_loss", "silent"])
        let byTTL = Dictionary(uniqueKeysWithValues: hops.rows.compactMap { row in row[1].double.map { (Int($0), row) } })
        let router = try #require(byTTL[2]), destination = try #require(byTTL[3]), first = try #require(byTTL[1])
        #expect(router[3] == .null && router[4] == .null && router[5] == .integer(1), "\(router)")
        let destinationLoss = try #require(destination[4].double)
        #expect(destinationLoss > 0 && destinationLoss < 100 && destination[5] == .integer(0), "\(hops.rows)")
        #expect(first[3] == .number(0) && first[5] == .integer(0))
        // The target's loss is the destination's, from raw probes and from rollups alike: its
        // probes at TTL 3, but where the first run lost all of them and found the destination a
        // TTL later (QUERY.md, "Loss": with no run before it, the TTL it answered at).
        let expected = Self.destinationLoss(of: traced, destination: try #require(IPAddress(NetworkLab.dst)))
        #expect(abs(expected - destinationLoss) < 100.0 / 30, "\(expected) vs \(destinationLoss)")
        for source in ["raw", "rollups"] {
            let target = try QueryEngine.table("stats loss of lab-dst by target using \(source)", snapshot: snap, context: context)
            let loss = try #require(target.rows.first?[1].double)
            #expect(abs(loss - expected) < 1e-9, "\(source): \(loss) vs \(expected)\n\(Self.hopsByRun(traced))")
        }
    }

    /// A target's loss as QUERY.md ("Loss") defines it, worked out from the runs in time order:
    /// each run's probes at the destination's TTL, the one the last run reached it at when
    /// nothing answered there now, else the lowest it answered at; a run that never reached it,
    /// its probes at that TTL (or at its highest, with no run before it), all lost.
    /// Two traces of the target started in the same microsecond on the same flow (the tests
    /// trace ten at once) are one run to the store, which keeps a run's identity once
    /// (FORMAT.md, "Run identity"): so here too.
    static func destinationLoss(of runs: [TraceRun], destination: IPAddress) -> Double {
        var sent = 0, lost = 0, lastTTL: UInt8 = 0
        var seen = Set<[Int64]>()
        for run in runs.sorted(by: { $0.startMicros < $1.startMicros }) where seen.insert([run.startMicros, Int64(run.flowID)]).inserted {
            let reachedAt = run.probes.first { $0.address == destination }?.ttl
            if lastTTL != 0 && (reachedAt.map { lastTTL < $0 } ?? true) {
                let there = run.probes.filter { $0.ttl == lastTTL }
                if !there.isEmpty && there.allSatisfy({ $0.address == nil }) {
                    sent += there.count
                    lost += there.count
                    continue
                }
            }
            if let reachedAt {
                lastTTL = reachedAt
                let there = run.probes.filter { $0.ttl == reachedAt }
                sent += there.count
                lost += there.filter { $0.address != destination }.count
            } else if let last = run.probes.map(\.ttl).max() {
                let there = run.probes.filter { $0.ttl == last }.count
                sent += there
                lost += there
            }
        }
        return sent == 0 ? 0 : Double(lost) * 100 / Double(sent)
    }

    /// One MDA trace (95 %) by the native prober, on pinned flow 4242.
    func mdaTrace(_ lab: NetworkLab) async throws -> TracerResult {
        var s = settings(.udpParis, probes: 3, flow: 4242)
        s.mdaConfidence = 0.95
        return try await trace(.native, lab: lab, settings: s)
    }

    @Test func mdaFindsBothBranchesOfTheECMPPairInOneRun() async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.ecmp()
        let result = try await mdaTrace(lab)
        let byTTL = Dictionary(grouping: result.output.probes, by: \.ttl)
        // One interface at TTL 1: n(1) = 6 probes rule out a second at 95 %. Two at TTL 2:
        // n(2) = 11 rule out a third (the 5 beyond the first 6 need no node control, since r1
        // is alone at TTL 1). At TTL 3 the flows that crossed the pinned flow's interface go
        // first, up to n(1) = 6; the destination answers them and ends the trace.
        #expect(byTTL[1]?.count == 6 && Set(byTTL[1]?.compactMap(\.address?.description) ?? []) == [NetworkLab.r1])
        #expect(byTTL[2]?.count == 11)
        #expect(Set(byTTL[2]?.compactMap(\.address?.description) ?? []) == [NetworkLab.r2, NetworkLab.r2b])
        let pinnedBranch = byTTL[2]?.first?.address
        let throughIt = byTTL[2]?.filter { $0.address == pinnedBranch }.count ?? 0
        #expect(byTTL[3]?.count == min(6, throughIt) && result.output.reached)
        // The first probe of each hop rides the pinned flow, so the run's path is the Paris path.
        let paris = try await trace(.native, lab: lab, settings: settings(.udpParis, probes: 1, flow: 4242))
        #expect(paris.output.probes.first { $0.ttl == 2 }?.address == byTTL[2]?.first?.address)
    }

    /// Node control with real packets: behind r1's two branches, r2 balances again over r3 and
    /// r3b while r2b has r3c alone. Every interface at every TTL is found, and the destination
    /// is reached at TTL 4 on every branch.
    @Test func mdaEnumeratesABalancerBehindABalancer() async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.nestedECMP()
        let result = try await mdaTrace(lab)
        func found(_ ttl: UInt8) -> Set<String> { Set(result.output.probes.filter { $0.ttl == ttl }.compactMap(\.address?.description)) }
        #expect(found(1) == [NetworkLab.r1])
        #expect(found(2) == [NetworkLab.r2, NetworkLab.r2b])
        #expect(found(3) == ["10.77.6.2", "10.77.7.2", "10.77.10.2"])
        #expect(found(4) == [NetworkLab.dst] && result.output.reached)
        // r2 has two successors: n(2) = 11 probes through it at TTL 3, at least.
        #expect(result.output.probes.filter { $0.ttl == 3 && ["10.77.6.2", "10.77.7.2"].contains($0.address?.description ?? "") }.count >= 11)
    }

    @Test func manyTracesAtOnceLeaveNoProbeBehind() async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.silence(.r2)
        let prober = NativeProber(namespace: lab.ns(.src), packetsPerSecond: 2000)
        defer { prober.shutdown() }
        var s = settings(.icmpParis, probes: 2)
        s.waitMilliseconds = 300
        let fixed = s
        let target = Self.destination
        // Twenty traces at once on one prober: answered hops, a silent hop, the destination.
        let results = try await withThrowingTaskGroup(of: TracerResult.self) { group in
            for _ in 0..<20 { group.addTask { try await prober.trace(target, settings: fixed) } }
            return try await group.reduce(into: [TracerResult]()) { $0.append($1) }
        }
        #expect(results.count == 20)
        for r in results {
            #expect(r.output.reached)
            #expect(r.output.probes.filter { $0.ttl == 2 }.allSatisfy { $0.isLoss })
            #expect(r.output.probes.filter { $0.ttl == 1 }.allSatisfy { $0.address?.description == NetworkLab.r1 })
        }
        #expect(prober.probesInFlight == 0, "lost probes are released with their TTL's answers")
    }

    @Test func tracesAtOnceKeepToThePacketRate() async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let pps = 400
        let prober = NativeProber(namespace: lab.ns(.src), packetsPerSecond: pps)
        defer { prober.shutdown() }
        let fixed = settings(.udpParis)
        let target = Self.destination
        let clock = ContinuousClock()
        let started = clock.now
        // 24 traces at once, 9 probes each (3 TTLs × 3), far more than the cap lets out at once.
        let results = try await withThrowingTaskGroup(of: TracerResult.self) { group in
            for _ in 0..<24 { group.addTask { try await prober.trace(target, settings: fixed) } }
            return try await group.reduce(into: [TracerResult]()) { $0.append($1) }
        }
        let elapsed = clock.now - started
        let sent = results.reduce(0) { $0 + $1.output.probes.count }
        #expect(sent == 24 * 9 && results.allSatisfy(\.output.reached))
        // At most a burst of 5 ms, sends up to 1 ms early and one batch of 3 ahead of the
        // average rate: 216 probes take at least (216 − 6) / 400 s, however fast the machine.
        let allowance = 6
        #expect(elapsed >= .milliseconds((sent - allowance) * 1000 / pps), "\(sent) probes in \(elapsed) at \(pps) pps")
    }

    /// Runs `monitor` on `targets` and stops it after `delay` (it then waits for its traces).
    func run(_ monitor: Monitor, _ targets: [ScheduledTarget], stoppingAfter delay: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await monitor.run(targets: targets) }
            group.addTask {
                try? await Task.sleep(for: delay)
                monitor.stop()
            }
            await group.waitForAll()
        }
    }

    @Test func slotsThatCannotStartAreStoredAsMissed() async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.dropAtR2(oneIn: 1)  // nothing gets past r2: each trace waits out its gap limit
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let targets = try TargetConfiguration.parse("""
            defaults: { interval: 1s, probes: 1, max_ttl: 8, wait: 1s, method: icmp-paris }
            targets: [{ name: slow, address: \(NetworkLab.dst) }]
            """)
        let monitor = Monitor(store: store, vantage: "lab", namespace: lab.ns(.src))
        await run(monitor, targets, stoppingAfter: .milliseconds(3500))
        // A trace takes about six seconds (r1, then five silent TTLs); slots a second apart
        // meanwhile find it still running, and each is on disk with its reason.
        let missed = store.snapshot().missedSlots
        #expect(missed.count >= 2 && missed.count == monitor.counters.missed)
        #expect(missed.allSatisfy { $0.target == "slow" && $0.vantage == "lab" && $0.reason == .stillRunning })
    }

    /// With room for one trace, the other targets' slots wait for it, are missed for want of
    /// capacity after half an interval, and those still waiting when the monitor stops are
    /// stored as stopped: every slot is accounted for.
    @Test func slotsHeldForCapacityAreStoredAsStoppedAtStop() async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.dropAtR2(oneIn: 1)  // each trace takes about six seconds
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        // Four targets every 2 s, a slot every half second: three of them are always waiting
        // (each at most a second) while the fourth's trace runs.
        let targets = try TargetConfiguration.parse("""
            defaults: { interval: 2s, probes: 1, max_ttl: 8, wait: 1s, method: icmp-paris }
            targets: [{ name: h0, address: \(NetworkLab.dst) }, { name: h1, address: \(NetworkLab.dst) },
                      { name: h2, address: \(NetworkLab.dst) }, { name: h3, address: \(NetworkLab.dst) }]
            """)
        let monitor = Monitor(store: store, vantage: "lab", namespace: lab.ns(.src), maxConcurrent: 1)
        await run(monitor, targets, stoppingAfter: .milliseconds(3500))
        let missed = store.snapshot().missedSlots
        #expect(monitor.counters.started == 1)
        #expect(missed.count == monitor.counters.missed)
        let reasons = Set(missed.map(\.reason))
        #expect(reasons.isSuperset(of: [.noCapacity, .stopped]), "\(missed.map { "\($0.target) \($0.reason)" })")
        #expect(missed.filter { $0.reason == .stopped }.count >= 1)
    }

    @Test func targetsThatCouldBeOptionsAreRefused() {
        for bad in ["-n", "--help", "a b", "x;rm", "", "a..b", "-1.example"] {
            #expect(throws: ProbeError.self, "\(bad)") { try TargetName(bad) }
        }
        #expect((try? TargetName("dst.lab.test"))?.text == "dst.lab.test")
        #expect((try? TargetName("2001:db8::1"))?.text == "2001:db8::1")
    }

    @Test(arguments: [(TracerTool.traceroute, TraceMethod.udp), (.traceroute, .icmp), (.scamper, .udpParis), (.mtr, .icmp),
                      (.native, .udpParis), (.native, .icmpParis), (.native, .tcpParis)])
    func ipv6ThroughTheLab(_ tool: TracerTool, _ method: TraceMethod) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let result = try await trace(tool, lab: lab, try TargetName(NetworkLab.dstv6), settings: settings(method))
        let byTTL = Dictionary(grouping: result.output.probes, by: \.ttl)
        #expect(byTTL.keys.sorted() == [1, 2, 3], "\(result.output.probes) \(result.standardError)")
        #expect(byTTL[1]?.allSatisfy { $0.address?.description == NetworkLab.r1v6 && $0.icmpType == 3 } == true)
        #expect(byTTL[2]?.allSatisfy { $0.address?.description == NetworkLab.r2v6 } == true)
        #expect(byTTL[3]?.allSatisfy { $0.address?.description == NetworkLab.dstv6 } == true)
        #expect(result.output.reached)
    }

    @Test(arguments: parisTools)
    func aLossyRouterShowsAsLostProbesNotAsAChange(_ tool: TracerTool) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.dropAtR2(oneIn: 3)
        let (store, dir) = try openStore()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        try await traceInto(store, lab: lab, count: 5, probes: 4, tool: tool)
        let snap = store.snapshot()
        func show(_ id: PathID) -> String {
            snap.catalog.path(of: id)?.hops.map { snap.catalog.address(of: $0)?.description ?? "*" }.joined(separator: " ") ?? "?"
        }
        let events = snap.events(in: Int64.min..<Int64.max).events
        #expect(events.isEmpty, "\(events.map { show($0.oldPath) + " -> " + show($0.newPath) })")
        let target = try #require(snap.catalog.targetID(named: "lab-dst"))
        let runs = snap.runs(of: target, in: Int64.min..<Int64.max).table
        // Probes past r2 cross it: about a third of them are lost, none before it.
        let beyond = runs.probes.filter { $0.ttl == 3 }
        let lost = beyond.filter(\.isLoss).count
        #expect(lost > 0 && lost < beyond.count, "\(lost) of \(beyond.count) lost")
        #expect(runs.probes.filter { $0.ttl == 1 }.allSatisfy { !$0.isLoss })
    }

    @Test(arguments: [(TracerTool.traceroute, TraceMethod.udp), (.tcptraceroute, .tcp), (.mtr, .icmp), (.scamper, .udpParis),
                      (.native, .icmpParis)])
    func aDelayedLinkShowsInTheRTTsBeyondIt(_ tool: TracerTool, _ method: TraceMethod) async throws {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        try lab.delay(milliseconds: 40)
        let result = try await trace(tool, lab: lab, settings: settings(method))
        let answered = result.output.probes.filter { !$0.isLoss }
        let before = answered.filter { $0.ttl < 3 }, beyond = answered.filter { $0.ttl == 3 }
        #expect(!before.isEmpty && !beyond.isEmpty, "\(result.output.probes)")
        // Only the way to dst crosses the queue: 40 ms on each probe beyond r2, none before it.
        #expect(before.allSatisfy { $0.rttMicros < 20_000 }, "\(before.map(\.rttMicros))")
        #expect(beyond.allSatisfy { $0.rttMicros >= 40_000 && $0.rttMicros < 1_000_000 }, "\(beyond.map(\.rttMicros))")
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that build network namespaces, open raw sockets or mount file systems: run
    /// as root, as `.ci/run` checks that CI does; skipped, saying why, otherwise.
    static var needsRoot: Self {
        .enabled(if: geteuid() == 0, "needs root (network namespaces, raw sockets, mounts); .ci/run runs as root")
    }
}

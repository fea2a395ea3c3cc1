import Foundation
import Testing
@testable import PathTSDB

/// Path changes as the store raises them at ingest: none for load balancing however the tracer
/// spreads its probes, none for silence, exactly one for a real change, dated and described.
@Suite struct PathTruthTests {
    /// Hop addresses of the synthetic network: 10.0.0.<n>.
    static func addr(_ n: UInt32) -> IPAddress { IPAddress(v4: 0x0A00_0000 | n) }
    static let destination = addr(99)

    /// One run: per TTL, the address each probe heard (nil: lost).
    static func run(_ minute: Int, method: TraceMethod, flow: UInt16 = 0, _ hops: [[UInt32?]],
                    target: String = "t") -> TraceRun {
        var probes = [ProbeReply]()
        for (i, answers) in hops.enumerated() {
            for a in answers {
                probes.append(a.map { ProbeReply(ttl: UInt8(i + 1), address: addr($0), rttMicros: 900 + $0, replyTTL: 60,
                                                 icmpType: $0 == 99 ? 3 : 11, icmpCode: $0 == 99 ? 3 : 0) } ?? .lost(ttl: UInt8(i + 1)))
            }
        }
        let start = Int64(minute) * 60_000_000 + 1_795_000_000_000_000
        return TraceRun(target: target, vantage: "v", method: method, flowID: flow, startMicros: start, endMicros: start + 1_000_000,
                        destination: destination, reached: probes.contains { $0.address == destination }, probes: probes)
    }

    func withStore(_ body: (PathStore) throws -> Void) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: dir.path, options: o)
        try body(store)
        try store.close()
    }

    func events(_ store: PathStore) -> [PathChangeEvent] { store.snapshot().events(in: Int64.min..<Int64.max).events }

    /// Classic traceroute through a balancer at TTL 2 (r2 or r3, each probe on its own) and a
    /// second one at TTL 3 behind it: every probe picks its branch at random.
    static func classicECMPRun(_ minute: Int, rng: inout SplitMix, probes: Int = 3, ttl2: [UInt32] = [2, 3],
                               method: TraceMethod = .udp) -> TraceRun {
        func pick(_ options: [UInt32]) -> [UInt32?] {
            (0..<probes).map { _ in rng.below(20) == 0 ? nil : options[rng.below(options.count)] }
        }
        return run(minute, method: method, [[1, 1, 1], pick(ttl2), pick([4, 5]), pick([99])])
    }

    @Test(arguments: [TraceMethod.udp, .icmp, .tcp, .unknown])
    func classicProbesThroughBalancersRaiseNoChange(_ method: TraceMethod) throws {
        try withStore { store in
            var rng = SplitMix(seed: UInt64(method.rawValue))
            try store.append((0..<60).map { PathTruthTests.classicECMPRun($0, rng: &rng, method: method) })
            #expect(events(store).isEmpty)
            // Every run's path keeps each address it heard at a TTL: no invented r3→r4 path.
            let paths = store.snapshot().catalog.paths
            #expect(paths.contains { $0.isLoadBalanced })
            #expect(paths.allSatisfy { p in (1...p.hopCount).allSatisfy { Set(p.addresses(atTTL: $0)).count == p.addresses(atTTL: $0).count } })
        }
    }

    /// tcptraceroute holds one source port per run: each run sees one branch, chosen per run.
    @Test func oneFlowPerRunThroughABalancerRaisesNoChange() throws {
        try withStore { store in
            var rng = SplitMix(seed: 11)
            try store.append((0..<80).map { m in
                let b: UInt32 = rng.below(2) == 0 ? 2 : 3
                return PathTruthTests.run(m, method: .tcp, flow: UInt16(rng.below(60000)), [[1, 1, 1], [b, b, b], [99, 99, 99]])
            })
            #expect(events(store).isEmpty)
        }
    }

    /// The unlucky start of the test above: the first eight runs all take one branch (one time
    /// in 128 through a two-way balancer), then the other branch shows up among the rest. The
    /// route is still being learnt, so the second branch is a branch, not a change.
    @Test func oneFlowPerRunThatSawOneBranchForEightRunsRaisesNoChange() throws {
        try withStore { store in
            var rng = SplitMix(seed: 5)
            try store.append((0..<80).map { m in
                let b: UInt32 = m < 8 ? 2 : (rng.below(2) == 0 ? 2 : 3)
                return PathTruthTests.run(m, method: .tcp, flow: UInt16(rng.below(60000)), [[1, 1, 1], [b, b, b], [99, 99, 99]])
            })
            #expect(events(store).isEmpty, "\(events(store))")
        }
    }

    /// Thirty runs each of 2,000 targets behind a two-way balancer at TTL 2, as a tool that holds
    /// one flow per run (tcptraceroute) or one per probe (traceroute -T) hears them, with 0 to 30 %
    /// of probes lost and now and then a whole TTL: no change. With one flow per run, the first
    /// run on the second branch followed by seven more (one target in 128) was once a change.
    @Test(arguments: [true, false])
    func manyTargetsBehindABalancerWithLossRaiseNoChange(_ oneFlowPerRun: Bool) throws {
        try withStore { store in
            var rng = SplitMix(seed: oneFlowPerRun ? 82 : 83)
            var runs = [TraceRun]()
            for target in 0..<2000 {
                let loss = [0, 5, 15, 30][target % 4]
                for m in 0..<30 {
                    let branch: UInt32 = rng.below(2) == 0 ? 2 : 3
                    var hops = [[UInt32]([1]), [2, 3], [99]].map { options in
                        (0..<3).map { _ -> UInt32? in
                            if rng.below(100) < loss { return nil }
                            if options.count == 1 { return options[0] }
                            return oneFlowPerRun ? branch : options[rng.below(2)]
                        }
                    }
                    if rng.below(100) < loss { hops[rng.below(3)] = [nil, nil, nil] }
                    // The destination's probes all lost: the tracer goes on, and it answers later.
                    if hops[2].allSatisfy({ $0 == nil }) { hops.append([99, 99, 99]) }
                    runs.append(PathTruthTests.run(m, method: .tcp, hops, target: "t\(target)"))
                }
            }
            try store.append(runs)
            let raised = events(store)
            #expect(raised.isEmpty, "\(raised.count) changes, the first: \(String(describing: raised.first))")
        }
    }

    /// With one flow per run, a target that has shown one branch for `n` runs needs `k` runs of
    /// another with `n + k` ≥ 24 before it is a change: a change at run 5 is raised at run 24,
    /// dated at run 5. Runs without a branch count across routes, so the move back is raised
    /// after the `confirmingRunsWhileLearning` runs of any route still being learnt, not 24.
    @Test func oneBranchRunsCountTowardsAChangeAcrossRoutes() throws {
        try withStore { store in
            let a: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [99, 99, 99]], b: [[UInt32?]] = [[1, 1, 1], [3, 3, 3], [99, 99, 99]]
            var runs = (0..<5).map { PathTruthTests.run($0, method: .tcp, a) }
            runs += (5..<23).map { PathTruthTests.run($0, method: .tcp, b) }
            try store.append(runs)
            #expect(events(store).isEmpty, "5 + 18 runs are not yet 24")
            try store.append([PathTruthTests.run(23, method: .tcp, b)])
            let first = events(store)
            #expect(first.count == 1 && first.first?.timeMicros == runs[5].startMicros && first.first?.firstDifferingTTL == 2)
            let confirming = LoadBalancedRoute.confirmingRunsWhileLearning
            try store.append((24..<23 + confirming).map { PathTruthTests.run($0, method: .tcp, a) })
            #expect(events(store).count == 1)
            try store.append([PathTruthTests.run(23 + confirming, method: .tcp, a)])
            let back = events(store)
            #expect(back.count == 2 && back.last?.timeMicros == PathTruthTests.run(24, method: .tcp, a).startMicros)
        }
    }

    /// A change confirmed by runs that all missed TTL 1 names TTL 2, where the routes differ:
    /// a hop the new runs did not hear is silence, not a difference.
    @Test func aChangeSeenThroughASilentFirstHopNamesWhereItDiffers() throws {
        try withStore { store in
            var rng = SplitMix(seed: 31)
            var runs = (0..<30).map { PathTruthTests.classicECMPRun($0, rng: &rng) }
            runs += (30..<40).map { PathTruthTests.run($0, method: .udp, [[nil, nil, nil], [6, 6, 6], [7, 7, 7], [99, 99, 99]]) }
            try store.append(runs)
            let all = events(store)
            #expect(all.count == 1 && all.first?.firstDifferingTTL == 2, "\(all)")
        }
    }

    /// The route moves from the r2/r3 balancer to r6 and from r4/r5 to r7: one change, dated at
    /// the first run on the new route, naming TTL 2 first.
    @Test func aFlipBehindBalancersIsExactlyOneChange() throws {
        try withStore { store in
            var rng = SplitMix(seed: 5)
            var runs = (0..<30).map { PathTruthTests.classicECMPRun($0, rng: &rng) }
            runs += (30..<60).map { PathTruthTests.run($0, method: .udp, [[1, 1, 1], [6, 6, nil], [7, 7, 7], [99, 99, 99]]) }
            try store.append(runs)
            let all = events(store)
            #expect(all.count == 1)
            let e = try #require(all.first)
            #expect(e.timeMicros == runs[30].startMicros)
            #expect(e.firstDifferingTTL == 2 && e.oldHopCount == 4 && e.newHopCount == 4)
            #expect(e.flags == [.loadBalanced, .oldReached, .newReached])
            let catalog = store.snapshot().catalog
            let new = try #require(catalog.path(of: e.newPath))
            #expect(new.addresses(atTTL: 2) == [catalog.addressID(of: PathTruthTests.addr(6))])
            let old = try #require(catalog.path(of: e.oldPath))
            #expect(Set(old.addresses(atTTL: 3)).isSubset(of: [catalog.addressID(of: PathTruthTests.addr(4)), catalog.addressID(of: PathTruthTests.addr(5))]))
        }
    }

    /// One run on another path between runs of the old one is a blip, not a change; and a hop
    /// answering from the destination one TTL late (its TTL's probes all lost) is silence.
    @Test func blipsAndLateDestinationsAreNoChange() throws {
        try withStore { store in
            var rng = SplitMix(seed: 9)
            var runs = (0..<20).map { PathTruthTests.classicECMPRun($0, rng: &rng) }
            runs.append(PathTruthTests.run(20, method: .udp, [[1, 1, 1], [6, 6, 6], [7, 7, 7], [99, 99, 99]]))
            runs += (21..<30).map { PathTruthTests.classicECMPRun($0, rng: &rng) }
            runs.append(PathTruthTests.run(30, method: .udp, [[1, 1, 1], [2, 3, 3], [4, 4, 5], [nil, nil, nil], [99, 99, 99]]))
            runs += (31..<40).map { PathTruthTests.classicECMPRun($0, rng: &rng) }
            try store.append(runs)
            #expect(events(store).isEmpty)
        }
    }

    /// A balancer that loses a branch changes the set of branches: one change, once the branch
    /// has gone unseen long enough; and one that gains a branch after its set was learnt, too.
    @Test func aBranchLostOrGainedIsAChange() throws {
        try withStore { store in
            var rng = SplitMix(seed: 3)
            var runs = (0..<20).map { PathTruthTests.classicECMPRun($0, rng: &rng) }
            runs += (20..<60).map { PathTruthTests.classicECMPRun($0, rng: &rng, ttl2: [2]) }
            try store.append(runs)
            let lost = events(store)
            #expect(lost.count == 1)
            #expect(lost.first?.firstDifferingTTL == 2 && lost.first?.flags.contains(.loadBalanced) == true)
            // 64 answered probes at TTL 2 without r3: about 22 runs of 3.
            #expect((try #require(lost.first)).timeMicros > runs[40].startMicros)

            try store.append((60..<70).map { PathTruthTests.classicECMPRun($0, rng: &rng, ttl2: [2, 8]) })
            #expect(events(store).count == 2)
        }
    }

    /// Flow A, then flow B whose tail did not answer, then A on a new path from TTL 3: B's
    /// silence agrees with nothing, so the change is raised.
    @Test func anotherFlowsSilentTailHidesNoChange() throws {
        try withStore { store in
            let a: [[UInt32?]] = [[1], [2], [3], [99]]
            let bSilent: [[UInt32?]] = [[1], [2], [nil], [nil]]
            let aNew: [[UInt32?]] = [[1], [2], [6], [99]]
            var runs = [TraceRun]()
            for m in 0..<6 { runs.append(PathTruthTests.run(m, method: .udpParis, flow: 1, a)) }
            runs.append(PathTruthTests.run(6, method: .udpParis, flow: 2, bSilent))
            runs.append(PathTruthTests.run(7, method: .udpParis, flow: 1, aNew))
            try store.append(runs)
            let all = events(store)
            #expect(all.count == 1)
            #expect(all.first?.firstDifferingTTL == 3 && all.first?.flags == [.oldReached, .newReached])
        }
    }

    /// Paris runs on a new flow every time (scamper without a pinned source port, as an import
    /// brings them): past 16 flows the target is compared with its route, so the balancer's two
    /// branches raise nothing and a move to another route is one change.
    @Test func parisRunsOnEverChangingFlowsAreComparedWithTheRoute() throws {
        try withStore { store in
            var rng = SplitMix(seed: 17)
            var runs = (0..<40).map { m in
                let b: UInt32 = rng.below(2) == 0 ? 2 : 3
                return PathTruthTests.run(m, method: .udpParis, flow: UInt16(1000 + m), [[1], [b], [99]])
            }
            runs += (40..<50).map { PathTruthTests.run($0, method: .udpParis, flow: UInt16(1000 + $0), [[1], [6], [99]]) }
            try store.append(runs)
            let all = events(store)
            #expect(all.count == 1)
            #expect(all.first?.timeMicros == runs[40].startMicros && all.first?.firstDifferingTTL == 2)
        }
    }

    /// The destination's address itself changed (a name that resolves elsewhere now).
    @Test func aNewDestinationAddressIsFlagged() throws {
        try withStore { store in
            var runs = (0..<3).map { PathTruthTests.run($0, method: .icmpParis, flow: 4, [[1], [2], [99]]) }
            var moved = PathTruthTests.run(3, method: .icmpParis, flow: 4, [[1], [2], [98]])
            moved.destination = PathTruthTests.addr(98)
            moved.reached = true
            runs.append(moved)
            try store.append(runs)
            #expect(events(store).first?.flags == [.oldReached, .newReached, .destinationChanged])
        }
    }

    /// What the detector has learnt of a load-balanced route survives a restart: the runs after
    /// it raise nothing, and a pending candidate is still confirmed.
    @Test func theLearntRouteSurvivesARestart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var o = StoreOptions()
        o.walSync = .never
        var rng = SplitMix(seed: 21)
        var store = try PathStore(directory: dir.path, options: o)
        try store.append((0..<20).map { PathTruthTests.classicECMPRun($0, rng: &rng) })
        try store.append((20..<22).map { PathTruthTests.run($0, method: .udp, [[1, 1, 1], [6, 6, 6], [7, 7, 7], [99, 99, 99]]) })
        try store.close()
        store = try PathStore(directory: dir.path, options: o)
        #expect(events(store).isEmpty)
        try store.append((22..<23).map { PathTruthTests.run($0, method: .udp, [[1, 1, 1], [6, 6, 6], [7, 7, 7], [99, 99, 99]]) })
        let all = events(store)
        #expect(all.count == 1)
        #expect(all.first?.timeMicros == PathTruthTests.run(20, method: .udp, []).startMicros)
        try store.close()
    }

    /// A trace stopped with ^C part-way is stored, but neither its missing hops nor its missing
    /// destination are a path change or the destination's loss; a real change after it is one.
    @Test(arguments: [TraceMethod.udpParis, .udp])
    func anInterruptedTraceIsNoChangeAndNoLoss(_ method: TraceMethod) throws {
        try withStore { store in
            let path: [[UInt32?]] = [[1, 1, 1], [2, 2, 2], [99, 99, 99]]
            var runs = (0..<10).map { PathTruthTests.run($0, method: method, path) }
            var cut = PathTruthTests.run(10, method: method, [[1, 1, 1], [nil]])
            cut.interrupted = true
            runs.append(cut)
            runs += (11..<20).map { PathTruthTests.run($0, method: method, path) }
            try store.append(runs)
            #expect(events(store).isEmpty)
            let snap = store.snapshot()
            let target = try #require(snap.catalog.targetID(named: "t"))
            let table = snap.runs(of: target, in: Int64.min..<Int64.max).table
            #expect(table.runs.filter(\.interrupted).count == 1)
            var ends = EndToEnd(), sent = 0, lost = 0
            for r in table.runs {
                ends.forEachProbe(destination: r.destination, probes: table.probes[r.probeRange], interrupted: r.interrupted) { reached, _ in
                    sent += 1
                    if !reached { lost += 1 }
                }
            }
            #expect(sent == 19 * 3 && lost == 0)
            try store.flush()
            let rows = store.snapshot().rollups(of: target, tier: .oneHour, in: Int64.min..<Int64.max, endToEnd: true).rows
            #expect(rows.filter { $0.ttl == 0 }.reduce(0) { $0 + $1.lost } == 0)
            // Eight runs: classic runs' route has shown one address at every TTL for 20 runs, so
            // it is still new, and a change needs `confirmingRunsWhileLearning` runs to show.
            try store.append((20..<20 + LoadBalancedRoute.confirmingRunsWhileLearning).map {
                PathTruthTests.run($0, method: method, [[1, 1, 1], [3, 3, 3], [99, 99, 99]])
            })
            #expect(events(store).count == 1)
        }
    }
}

/// SplitMix64, seeded, for repeatable random branches.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func below(_ n: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(n))
    }
}

import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import PathTSDB

@Suite struct StoreTests {
    func options(cut: Int = 1_000_000, background: Bool = false) -> StoreOptions {
        var o = StoreOptions()
        o.walSync = .never
        o.headCutProbes = cut
        o.backgroundCuts = background
        return o
    }

    @Test(arguments: [false, true])
    func everyFieldSurvivesHeadSegmentAndReopen(backgroundCuts: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 600)
        do {
            let store = try PathStore(directory: dir.path, options: options(cut: 4000, background: backgroundCuts))
            for batch in stride(from: 0, to: runs.count, by: 50) {
                try store.append(Array(runs[batch..<min(batch + 50, runs.count)]))
                // Whatever the cutter has done by now, every run reads back exactly once.
                if backgroundCuts {
                    expectSameRuns(store.snapshot().allTraceRuns(), Array(runs[..<min(batch + 50, runs.count)]))
                    // A cut still in flight when the head reaches the cut size again would defer
                    // the next cut (the head may grow to twice the size first); waiting here, after
                    // the read that raced the cutter, makes the number of segments certain.
                    store.waitForCuts()
                }
            }
            store.waitForCuts()
            // Some runs are in segments by now, the rest in the head: both must read back alike.
            #expect(store.snapshot().segments.count >= 2)
            #expect(!store.snapshot().head.isEmpty)
            expectSameRuns(store.snapshot().allTraceRuns(), runs)
            try store.close()
        }
        let reopened = try PathStore(directory: dir.path, options: options())
        #expect(reopened.recovery.problems.isEmpty)
        expectSameRuns(reopened.snapshot().allTraceRuns(), runs)
        try reopened.close()
    }

    @Test func aSnapshotDoesNotSeeLaterWrites() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(cut: 2000))
        let runs = RunFactory.runs(count: 300)
        try store.append(Array(runs[..<150]))
        let before = store.snapshot()
        try store.append(Array(runs[150...]))
        try store.flush()
        _ = try store.compact()
        #expect(before.allTraceRuns().count == 150)
        #expect(store.snapshot().allTraceRuns().count == 300)
        try store.close()
    }

    @Test func invalidRunsAreRefusedBeforeAnythingIsWritten() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        var bad = RunFactory.runs(count: 2)
        bad[1].probes.reverse()
        #expect(throws: StorageError.self) { try store.append(bad) }
        #expect(store.snapshot().allTraceRuns().isEmpty)
        try store.close()
    }

    @Test func pathChangesAreDetectedOncePerChangeAndNotForFlowsOrSilentHops() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        func run(_ minute: Int64, flow: UInt16, hops: [UInt32?]) -> TraceRun {
            let probes = hops.enumerated().flatMap { i, a in
                (0..<3).map { _ in a.map { ProbeReply(ttl: UInt8(i + 1), address: IPAddress(v4: $0), rttMicros: 1000, replyTTL: 60, icmpType: 11) } ?? .lost(ttl: UInt8(i + 1)) }
            }
            return TraceRun(target: "t", vantage: "v", method: .udpParis, flowID: flow, startMicros: minute * 60_000_000,
                            endMicros: minute * 60_000_000 + 1, destination: IPAddress(v4: 9), reached: false, probes: probes)
        }
        let a: [UInt32?] = [1, 2, 3, 4]
        let aSibling: [UInt32?] = [1, 2, 33, 4]  // ECMP branch taken by the other flow
        let aSilent: [UInt32?] = [1, nil, 3, 4]
        let b: [UInt32?] = [1, 2, 5, 6, 7]
        // A change behind the ECMP pair: each flow keeps its own branch at TTL 3 and both see
        // the same new tail from TTL 4 on. That is one change, not two.
        let c: [UInt32?] = [1, 2, 5, 8, 9]
        let cSibling: [UInt32?] = [1, 2, 55, 8, 9]
        var runs = [TraceRun]()
        for m in 0..<20 { runs.append(run(Int64(m), flow: UInt16(m % 2), hops: m % 2 == 0 ? a : aSibling)) }
        runs.append(run(20, flow: 0, hops: aSilent))
        for m in 21..<30 { runs.append(run(Int64(m), flow: UInt16(m % 2), hops: b)) }
        for m in 30..<40 { runs.append(run(Int64(m), flow: UInt16(m % 2), hops: m % 2 == 0 ? c : cSibling)) }
        try store.append(runs)
        let events = store.snapshot().events(in: Int64.min..<Int64.max).events
        #expect(events.count == 2)
        let e = try #require(events.first)
        #expect(e.timeMicros == 21 * 60_000_000)
        #expect(e.firstDifferingTTL == 3 && e.oldHopCount == 4 && e.newHopCount == 5)
        let second = try #require(events.last)
        #expect(second.timeMicros == 30 * 60_000_000 && second.firstDifferingTTL == 4)
        // The ECMP pair alone (minutes 0–19) raised nothing, nor did the silent hop at minute 20.
        // The events survive the cut into a segment and a reopen.
        try store.close()
        let again = try PathStore(directory: dir.path, options: options())
        #expect(again.snapshot().events(in: Int64.min..<Int64.max).events == events)
        try again.close()
    }

    @Test func rollupAnswersAgreeWithRawWithinTheSketchError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(cut: 20_000))
        let runs = RunFactory.runs(count: 3 * 60 * 5)  // 5 hours, three targets
        try store.append(runs)
        try store.flush()
        let snap = store.snapshot()
        let target = try #require(snap.catalog.targetID(named: "target-1"))
        let range = runs[0].startMicros / 3_600_000_000 * 3_600_000_000 ..< runs.last!.startMicros + 1
        let raw = try snap.hopStatistics(target: target, range: range, stepMicros: 3_600_000_000, quantiles: [0.5, 0.95], source: .raw)
        let rolled = try snap.hopStatistics(target: target, range: range, stepMicros: 3_600_000_000, quantiles: [0.5, 0.95], source: .rollup)
        #expect(!raw.usedRollups && rolled.usedRollups)
        #expect(raw.rows.count == rolled.rows.count && raw.rows.count > 20)
        for (r, s) in zip(raw.rows, rolled.rows) {
            #expect(r.bucketMicros == s.bucketMicros && r.ttl == s.ttl && r.sent == s.sent && r.lost == s.lost)
            #expect(r.minMicros == s.minMicros && r.maxMicros == s.maxMicros)
            for (x, y) in zip(r.quantiles, s.quantiles) {
                let exact = try #require(x), approx = try #require(y)
                #expect(abs(approx - exact) <= exact * QuantileSketch.relativeAccuracy + 1e-9)
            }
        }
        try store.close()
    }

    @Test func unboundedRangesAreAnsweredWithoutOverflow() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        try store.append(RunFactory.runs(count: 60))
        try store.flush()
        let snap = store.snapshot()
        let target = try #require(snap.catalog.targetID(named: "target-0"))
        for source in StatisticsSource.allCases where source != .rollup {
            let r = try snap.hopStatistics(target: target, range: Int64.min..<Int64.max, stepMicros: 3_600_000_000, quantiles: [0.5], source: source)
            #expect(r.rows.reduce(0) { $0 + Int($1.sent) } == 20 * 15)
        }
        #expect(!snap.rollups(of: target, tier: .oneHour, in: Int64.min..<Int64.max).rows.isEmpty)
        try store.close()
    }

    /// A reader that asks for TTLs, addresses and RTTs only gets them as a full read does,
    /// though the reply details' columns are not decompressed for it.
    @Test func timingFieldsReadAsEveryField() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(cut: 300))
        try store.append(RunFactory.runs(count: 240, seed: 9))
        store.waitForCuts()
        let snap = store.snapshot()
        #expect(!snap.segments.isEmpty)
        for (all, timing) in try expectTimingFieldsAsEveryField(in: snap) {
            #expect(all.probes.contains { $0.replyTTL != 0 } && !timing.probes.contains { $0.replyTTL != 0 })
        }
        try store.close()
    }

    /// Runs of every shape the chunk decoder tells apart read back exactly, with every field
    /// and with the timing fields: each hop's probes together (the common case, read by the
    /// unchecked per-run decoder), one hop answering from two addresses in a run, lost probes
    /// past the path's last hop, a trace starting at TTL 2, a silent hop, first values, spikes
    /// and values far below a series' floor (escapes).
    @Test func runsOfEveryShapeReadBack() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(cut: 2_000))
        var rng = TestRandom(seed: 31)
        var runs = [TraceRun]()
        for minute in 0..<200 {
            for shape in 0..<5 {
                var probes = [ProbeReply]()
                let firstTTL = shape == 3 ? 2 : 1
                for ttl in firstTTL...6 {
                    for probe in 0..<3 {
                        if rng.chance(0.06) || (shape == 4 && ttl == 3) {
                            probes.append(.lost(ttl: UInt8(ttl)))
                            continue
                        }
                        let second = shape == 1 && ttl == 4 && probe == 2
                        var rtt = UInt32(ttl * 3_000 + shape * 100 + rng.below(500))
                        if rng.chance(0.01) { rtt += UInt32(rng.below(2_000_000)) }
                        if rng.chance(0.01) { rtt = UInt32(rng.below(3)) }
                        probes.append(ProbeReply(ttl: UInt8(ttl), address: IPAddress(v4: 0x0A01_0000 | UInt32(shape << 12) | UInt32(ttl << 4) | (second ? 2 : 1)),
                                                 rttMicros: rtt, replyTTL: UInt8(64 - ttl), icmpType: 11, icmpCode: second ? 1 : 0,
                                                 mplsLabels: second ? [MPLSLabel(label: 16_004, trafficClass: 0, bottomOfStack: true, ttl: 1)] : []))
                    }
                }
                if shape == 2 { for ttl in 7...9 { for _ in 0..<3 { probes.append(.lost(ttl: UInt8(ttl))) } } }
                let start = 1_795_284_000_000_000 + Int64(minute) * 60_000_000 + Int64(shape) * 1_000_000
                runs.append(TraceRun(target: "shape-\(shape)", vantage: "vp", method: .icmpParis, flowID: 1, startMicros: start,
                                     endMicros: start + 1_000_000, destination: IPAddress(v4: 0x0A01_0061), reached: false, probes: probes))
            }
        }
        for minute in stride(from: 0, to: runs.count, by: 5) { try store.append(Array(runs[minute..<(minute + 5)])) }
        store.waitForCuts()
        let snap = store.snapshot()
        #expect(snap.segments.count >= 2)
        expectSameRuns(snap.allTraceRuns(), runs)
        try expectTimingFieldsAsEveryField(in: snap)
        try store.close()
    }

    /// Many tiny segments (a cut every few runs): every chunk must read back.
    @Test func tinySegmentsReadBack() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(cut: 40))
        let runs = RunFactory.runs(count: 120, seed: 77)
        for r in runs { try store.append([r]) }
        #expect(store.snapshot().segments.count > 20)
        expectSameRuns(store.snapshot().allTraceRuns(), runs)
        try store.close()
    }

    /// A target's runs come as tables that follow each other in time, one per segment chunk
    /// when the segments do not overlap and one merged table when a late run makes them; over
    /// any range, in turn, they are the target's runs in that range, oldest first.
    @Test func runTablesFollowEachOtherInTime() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(cut: 300))
        var runs = RunFactory.runs(count: 240, seed: 9)
        for r in runs { try store.append([r]) }
        // A late run of target-1, older than the segments before it: its segment overlaps them.
        var late = runs[4]
        late.startMicros += 1
        late.endMicros += 1
        try store.append([late])
        runs.append(late)
        try store.flush()
        let snap = store.snapshot()
        #expect(snap.segments.count >= 4)
        let first = try #require(runs.map(\.startMicros).min()), last = try #require(runs.map(\.startMicros).max())
        let ranges: [Range<Int64>] = [Int64.min..<Int64.max, (first + 600_000_000)..<(last - 600_000_000), first..<(first + 1)]
        for (id, name) in snap.catalog.targets {
            for range in ranges {
                let (tables, problems) = snap.runTables(of: id, in: range, fields: .all)
                #expect(problems.isEmpty)
                let expected = runs.filter { $0.target == name && range.contains($0.startMicros) }.sorted { $0.startMicros < $1.startMicros }
                #expect(tables.flatMap { $0.runs.map(\.startMicros) } == expected.map(\.startMicros))
                #expect(tables.flatMap { t in t.runs.map { Int($0.probeCount) } } == expected.map(\.probes.count))
                #expect(tables.allSatisfy { !$0.isEmpty })
                if range == ranges[0] {
                    if name == "target-1" { #expect(tables.count == 1) } else { #expect(tables.count >= 4) }
                }
            }
        }
        try store.close()
    }

    /// Chunks decoded side by side: one damaged while the store is open is reported and its
    /// segment set aside, and the other segments' runs of that target are still answered, and
    /// the other targets' runs of that segment.
    @Test func aChunkDamagedAfterOpeningIsReportedAndTheOthersServed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(cut: 300))
        let runs = RunFactory.runs(count: 240, seed: 3)
        for r in runs { try store.append([r]) }
        try store.flush()
        let snap = store.snapshot()
        #expect(snap.segments.count >= 4)
        let target = try #require(snap.catalog.targetID(named: "target-0"))
        let victim = snap.segments[1]
        let entry = try #require(victim.entry(for: target))
        let lost = Set(try victim.runs(of: target, catalog: snap.catalog).runs.map(\.startMicros))
        #expect(!lost.isEmpty)
        // One byte flipped in place, inside target-0's chunk.
        let fd = open(victim.path, O_RDWR)
        #expect(fd >= 0)
        var byte: UInt8 = 0
        let at = off_t(entry.chunkOffset) + off_t(entry.chunkLength / 2)
        #expect(pread(fd, &byte, 1, at) == 1)
        byte ^= 0x10
        #expect(pwrite(fd, &byte, 1, at) == 1)
        close(fd)

        let (tables, problems) = snap.runTables(of: target, in: Int64.min..<Int64.max)
        #expect(problems.count == 1 && problems.first?.file == victim.path && problems.first?.code == .corruption)
        let expected = runs.filter { $0.target == "target-0" && !lost.contains($0.startMicros) }.map(\.startMicros)
        #expect(tables.flatMap { $0.runs.map(\.startMicros) } == expected)
        #expect(!store.snapshot().segments.contains { $0.path == victim.path })
        let target1 = try #require(snap.catalog.targetID(named: "target-1"))
        #expect(store.snapshot().runs(of: target1, in: Int64.min..<Int64.max).table.runs.map(\.startMicros)
                == runs.filter { $0.target == "target-1" }.map(\.startMicros))
        try store.close()
    }

    @Test func coarseRollupsMergedFromFineOnesEqualThoseFromValues() throws {
        let runs = RunFactory.runs(count: 3 * 60 * 30, seed: 5)  // 30 hours of three targets
        var ingester = HeadIngester(catalog: Catalog(), detector: PathChangeDetector())
        let block = ingester.ingest(runs, walSequence: WALSequence(rawValue: 1))
        for target in Set(block.table.runs.map(\.target)) {
            let mine = block.table.runs.filter { $0.target == target }
            let merged = RollupBuilder.rows(target: target, runs: mine, probes: block.table.probes, tiers: [.oneHour, .oneDay])
            let direct = RollupBuilder.valueRows(target: target, runs: mine, probes: block.table.probes, tier: .oneDay)
            #expect(merged.filter { $0.tier == .oneDay } == direct)
            #expect(merged.filter { $0.tier == .oneHour } == RollupBuilder.valueRows(target: target, runs: mine, probes: block.table.probes, tier: .oneHour))
        }
    }

    @Test func perPathStatisticsKeepECMPBranchesApart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        // target-0 takes its TTL-4 ECMP branch on odd minutes: two paths, alternating.
        let runs = RunFactory.runs(count: 3 * 120)
        try store.append(runs)
        let snap = store.snapshot()
        let target = try #require(snap.catalog.targetID(named: "target-0"))
        let (paths, _) = snap.pathLifetimes(target: target, range: Int64.min..<Int64.max)
        #expect(paths.count == 2)
        #expect(paths.map(\.runs).reduce(0, +) == 120)
        #expect(paths.allSatisfy { $0.runs == 60 && $0.firstSeenMicros < $0.lastSeenMicros })
        let all = try snap.hopStatistics(target: target, range: Int64.min..<Int64.max, stepMicros: 86_400_000_000, quantiles: [0.5])
        var perPathSent = [UInt8: UInt32]()
        for p in paths {
            let rows = try snap.hopStatistics(target: target, range: Int64.min..<Int64.max, stepMicros: 86_400_000_000,
                                              quantiles: [0.5], path: p.path).rows
            #expect(!rows.isEmpty)
            for r in rows { perPathSent[r.ttl, default: 0] += r.sent }
        }
        #expect(all.rows.map(\.sent) == all.rows.map { perPathSent[$0.ttl] ?? 0 })
        #expect(throws: StorageError.self) {
            try snap.hopStatistics(target: target, range: 0..<86_400_000_000, stepMicros: 3_600_000_000, quantiles: [0.5],
                                   source: .rollup, path: paths[0].path)
        }
        try store.close()
    }

    @Test func pathCompatibility() {
        func p(_ a: [UInt32]) -> PathHops { PathHops(a.map { AddressID(rawValue: $0) }) }
        #expect(p([1, 2, 3]).isCompatible(with: p([1, 0, 3])))          // a silent hop
        #expect(p([1, 2, 3]).isCompatible(with: p([1, 2, 0, 0, 0])))    // the destination lost, the tracer went on
        #expect(!p([1, 2, 3]).isCompatible(with: p([1, 2, 4])))         // another router
        #expect(!p([1, 2, 3]).isCompatible(with: p([1, 2, 3, 4])))      // a longer route
        #expect(p([1, 2, 3]).isCompatible(with: p([1, 2, 0, 3])))       // the destination's TTL-3 probes lost, TTL 4 reached it
        #expect(p([1, 2, 0, 0, 3]).isCompatible(with: p([1, 2, 3])))
        #expect(!p([1, 2, 3]).isCompatible(with: p([1, 4, 0, 3])))      // another router on the way
        #expect(!p([1, 2, 3]).isCompatible(with: p([1, 2, 5, 3])))      // an answering new hop
    }
}

import Foundation
import Testing
@testable import PathTSDB

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "pathtsdb") {
        path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic test data: a small LCG so every run of a test sees the same runs.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var z = state
        z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
        return z ^ (z >> 33)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) < p * 1_000_000 }
}

enum RunFactory {
    /// `count` runs over `targets` targets, one a minute each, with loss, ECMP, MPLS, IPv6 and
    /// an occasional route change: the shapes the codecs must get right.
    static func runs(count: Int, targets: Int = 3, seed: UInt64 = 1, startMicros: Int64 = 1_795_284_000_000_000) -> [TraceRun] {
        var rng = TestRandom(seed: seed)
        var out = [TraceRun]()
        for i in 0..<count {
            let t = i % targets
            let minute = Int64(i / targets)
            let v6 = t == 2
            let hopCount = 5 + t + (minute > Int64(count / targets / 2) && t == 1 ? 2 : 0)
            var probes = [ProbeReply]()
            for ttl in 1...hopCount {
                let silent = ttl == 3 && t == 0
                let ecmp = ttl == 4 && minute % 2 == 1
                for _ in 0..<3 {
                    if silent || rng.chance(0.05) {
                        probes.append(.lost(ttl: UInt8(ttl)))
                        continue
                    }
                    let addr: IPAddress = v6
                        ? IPAddress(high: 0x2001_0db8_0000_0000, low: UInt64(ttl * 16 + (ecmp ? 1 : 0)))
                        : IPAddress(v4: 0x0A00_0000 | UInt32(t << 16) | UInt32(ttl << 8) | (ecmp ? 2 : 1))
                    let base = UInt32(ttl * 2000 + t * 300)
                    let rtt = base + UInt32(rng.below(400)) + (rng.chance(0.01) ? UInt32(rng.below(200_000)) : 0)
                    let last = ttl == hopCount
                    let labels: [MPLSLabel] = ttl == 2 && t == 1 ? [MPLSLabel(label: 24001, trafficClass: 0, bottomOfStack: true, ttl: 1)] : []
                    probes.append(ProbeReply(ttl: UInt8(ttl), address: addr, rttMicros: rtt, replyTTL: UInt8(64 - ttl),
                                             icmpType: last ? 0 : 11, icmpCode: 0, mplsLabels: labels))
                }
            }
            let dest: IPAddress = v6 ? IPAddress(high: 0x2001_0db8_0000_0000, low: UInt64(hopCount * 16)) : IPAddress(v4: 0x0A00_0000 | UInt32(t << 16) | UInt32(hopCount << 8) | 1)
            let start = startMicros + minute * 60_000_000 + Int64(t) * 1_000_000
            out.append(TraceRun(target: "target-\(t)", vantage: "vp-\(t % 2)", method: .icmpParis, flowID: UInt16(minute % 16),
                                startMicros: start, endMicros: start + 2_000_000, destination: dest,
                                reached: probes.contains { $0.address == dest }, probes: probes))
        }
        return out
    }
}

extension RunFactory {
    /// `run` as an mtr report would give it: the same probes, replies untimed, and per answered
    /// hop figures made from the replies' times.
    static func report(of run: TraceRun) -> TraceRun {
        var r = run
        var figures = [HopFigures]()
        for ttl in Set(run.probes.map(\.ttl)).sorted() {
            let times = run.probes.filter { $0.ttl == ttl && !$0.isLoss }.map(\.rttMicros)
            guard let last = times.last, let best = times.min(), let worst = times.max() else { continue }
            let mean = times.reduce(0) { $0 + UInt64($1) } / UInt64(times.count)
            figures.append(HopFigures(ttl: ttl, lastMicros: last, averageMicros: UInt32(mean), bestMicros: best, worstMicros: worst,
                                      stdDevMicros: UInt32(ttl)))
        }
        r.probes = run.probes.map { var p = $0; if !p.isLoss { p.rttMicros = ProbeReply.untimed }; return p }
        r.figures = figures
        return r
    }

    /// `run` stopped after the probes of `ttls` TTLs, short of its destination.
    static func interrupted(_ run: TraceRun, after ttls: UInt8) -> TraceRun {
        var r = run
        r.probes = run.probes.filter { $0.ttl <= ttls && $0.address != run.destination }
        r.reached = false
        r.interrupted = true
        return r
    }
}

extension StoreSnapshot {
    /// Every run of every target, rebuilt as `TraceRun`s, oldest first per target.
    func allTraceRuns() -> [TraceRun] {
        var out = [TraceRun]()
        for (id, name) in catalog.targets {
            let (table, _) = runs(of: id, in: Int64.min..<Int64.max)
            for r in table.runs {
                var run = TraceRun(
                    target: name, vantage: catalog.name(of: r.vantage) ?? "?", method: r.method, flowID: r.flowID,
                    startMicros: r.startMicros, endMicros: r.endMicros, destination: catalog.address(of: r.destination) ?? IPAddress(v4: 0),
                    reached: r.reached,
                    probes: table.probes[r.probeRange].map { p in
                        ProbeReply(ttl: p.ttl, address: p.isLoss ? nil : catalog.address(of: p.address), rttMicros: p.rttMicros,
                                   replyTTL: p.replyTTL, icmpType: p.icmpType, icmpCode: p.icmpCode, mplsLabels: table.mplsLabels(of: p))
                    })
                run.interrupted = r.interrupted
                run.figures = table.figures(of: r)
                out.append(run)
            }
        }
        return out
    }
}

func sortedByTargetAndTime(_ runs: [TraceRun]) -> [TraceRun] {
    runs.sorted { ($0.target, $0.startMicros) < ($1.target, $1.startMicros) }
}

func fileBytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

/// Overwrites `path`; a failed write fails the test (a damage test must not pass undamaged).
func writeFileBytes(_ bytes: [UInt8], _ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    if !FileManager.default.createFile(atPath: path, contents: Data(bytes)) {
        Issue.record("cannot write \(path)", sourceLocation: sourceLocation)
    }
}

func files(in dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

/// Reads every segment chunk of `snapshot` twice, with every field and with the timing fields
/// only, and expects the same runs and the same TTLs, addresses and RTTs from both; returns
/// the pairs of reads for checks of the reply details.
@discardableResult
func expectTimingFieldsAsEveryField(in snapshot: StoreSnapshot, sourceLocation: SourceLocation = #_sourceLocation) throws -> [(all: RunTable, timing: RunTable)] {
    var pairs = [(all: RunTable, timing: RunTable)]()
    for segment in snapshot.segments {
        for target in segment.targets {
            let all = try segment.runs(of: target, catalog: snapshot.catalog, fields: .all)
            let timing = try segment.runs(of: target, catalog: snapshot.catalog, fields: .timing)
            #expect(timing.runs == all.runs, sourceLocation: sourceLocation)
            #expect(timing.probes.map { [UInt32($0.ttl), $0.address.rawValue, $0.rttMicros] }
                    == all.probes.map { [UInt32($0.ttl), $0.address.rawValue, $0.rttMicros] }, sourceLocation: sourceLocation)
            pairs.append((all, timing))
        }
    }
    return pairs
}

/// Compares runs regardless of order, reporting counts and the first difference instead of
/// printing both (large) arrays.
func expectSameRuns(_ actual: [TraceRun], _ expected: [TraceRun], sourceLocation: SourceLocation = #_sourceLocation) {
    let a = sortedByTargetAndTime(actual), e = sortedByTargetAndTime(expected)
    guard a.count == e.count else {
        Issue.record("got \(a.count) runs, expected \(e.count)", sourceLocation: sourceLocation)
        return
    }
    if let i = a.indices.first(where: { a[$0] != e[$0] }) {
        Issue.record("run \(i) differs: got \(a[i]), expected \(e[i])", sourceLocation: sourceLocation)
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that build network namespaces, open raw sockets or mount file systems: run
    /// as root, as `.ci/run` checks that CI does; skipped, saying why, otherwise.
    static var needsRoot: Self {
        .enabled(if: geteuid() == 0, "needs root (network namespaces, raw sockets, mounts); .ci/run runs as root")
    }
}

/// Copies a directory tree by reading and writing each file: Foundation's `copyItem` also copies
/// the owner, which a user other than root may not do (the fixtures belong to whoever checked
/// them out).
func copyTree(_ source: String, to destination: String) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: source) {
        let from = source + "/" + name, to = destination + "/" + name
        var isDirectory: ObjCBool = false
        _ = fm.fileExists(atPath: from, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            try copyTree(from, to: to)
        } else {
            try Data(contentsOf: URL(fileURLWithPath: from)).write(to: URL(fileURLWithPath: to))
        }
    }
}

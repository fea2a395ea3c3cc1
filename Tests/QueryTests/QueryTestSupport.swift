import Foundation
import Testing
@testable import PathTSDB
@testable import Query

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String = "query") {
        path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A seeded generator (SplitMix64), so every run of a test sees the same data.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) < p * 1_000_000 }
}

/// Runs of three targets in two groups over `hours` hours, one run every five minutes each,
/// three probes per hop: loss, a silent hop, an ECMP hop, RTT spikes, an IPv6 target, and a
/// route change half way for `eu/b` (one hop longer, new addresses from TTL 3).
enum QueryCorpus {
    static let start: Int64 = 1_795_219_200_000_000  // 2026-11-21T00:00:00Z

    static func runs(hours: Int = 26, seed: UInt64 = 7) -> [TraceRun] {
        var rng = SeededRandom(seed: seed)
        var out = [TraceRun]()
        let names = ["eu/a", "eu/b", "us/c"]
        let slots = hours * 12
        for slot in 0..<slots {
            for (t, name) in names.enumerated() {
                let v6 = t == 2
                let changed = t == 1 && slot >= slots / 2
                let hopCount = 6 + t + (changed ? 1 : 0)
                var probes = [ProbeReply]()
                for ttl in 1...hopCount {
                    for probe in 0..<3 {
                        if (ttl == 3 && t == 0) || rng.chance(0.04 + Double(t) * 0.02) {
                            probes.append(.lost(ttl: UInt8(ttl)))
                            continue
                        }
                        // A per-flow ECMP hop: the second probe of each run takes the other branch.
                        let branch = ttl == 4 && probe == 1 ? 1 : 0
                        let reroute = changed && ttl >= 3 ? 100 : 0
                        let addr: IPAddress = v6
                            ? IPAddress(high: 0x2001_0db8_0000_0000, low: UInt64(ttl * 16 + branch))
                            : IPAddress(v4: 0x0A00_0000 | UInt32(t << 16) | UInt32((ttl + reroute) << 8) | UInt32(1 + branch))
                        let base = UInt32(ttl * 1800 + t * 250 + slot % 7 * 40)
                        let rtt = base + UInt32(rng.below(600)) + (rng.chance(0.02) ? UInt32(rng.below(150_000)) : 0)
                        probes.append(ProbeReply(ttl: UInt8(ttl), address: addr, rttMicros: rtt, replyTTL: UInt8(64 - ttl),
                                                 icmpType: ttl == hopCount ? 0 : 11, icmpCode: 0))
                    }
                }
                let dest = probes.last { !$0.isLoss && $0.ttl == UInt8(hopCount) }?.address ?? IPAddress(v4: 0x0A00_00FF)
                let begin = start + Int64(slot) * 300_000_000 + Int64(t) * 7_000_000 + Int64(rng.below(2_000_000))
                out.append(TraceRun(target: name, vantage: "vp1", method: .icmpParis, flowID: 7, startMicros: begin,
                                    endMicros: begin + 3_000_000, destination: dest,
                                    reached: probes.contains { $0.ttl == UInt8(hopCount) && !$0.isLoss }, probes: probes))
            }
        }
        return out
    }

    /// A store holding `runs`, segments cut as they would be in use.
    static func store(_ runs: [TraceRun], in dir: TemporaryDirectory) throws -> PathStore {
        var options = StoreOptions()
        options.walSync = .never
        options.headCutProbes = 20_000
        let store = try PathStore(directory: dir.path, options: options)
        for chunk in stride(from: 0, to: runs.count, by: 500) {
            try store.append(Array(runs[chunk..<min(runs.count, chunk + 500)]))
        }
        store.waitForCuts()
        return store
    }

    static let context = QueryContext(nowMicros: start + 26 * 3_600_000_000,
                                      tags: ["eu/a": ["core"], "eu/b": ["core", "peer"], "us/c": []])
}

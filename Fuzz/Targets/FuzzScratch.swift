import Foundation
import PathTSDB

/// What the targets need beside the input, made once per process: a directory of their own (a
/// segment file is opened from disk) and a small store for queries to run against, with two
/// groups of targets, a path change, a silent hop and loss.
package final class FuzzScratch: Sendable {
    /// "Now" for queries: the end of the store's data.
    static let nowMicros: Int64 = 1_795_000_000_000_000 + 2 * 3_600_000_000

    package let directory: String
    let snapshot: StoreSnapshot
    private let store: PathStore

    /// Makes a fresh directory under the system's temporary one and fills its store.
    package init() throws {
        directory = NSTemporaryDirectory() + "smoketrace-fuzz-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options = StoreOptions()
        options.walSync = .never
        store = try PathStore(directory: directory + "/store", options: options)
        try store.append(FuzzScratch.runs())
        snapshot = store.snapshot()
    }

    /// Closes the store and removes the directory.
    package func remove() {
        try? store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Two hours of one-minute runs of three targets; `core/b`'s path moves at TTL 2 half-way,
    /// `edge/c` has a silent third hop and loses one probe in five at the destination.
    static func runs() -> [TraceRun] {
        var runs = [TraceRun]()
        let start = nowMicros - 2 * 3_600_000_000
        for (t, name) in ["core/a", "core/b", "edge/c"].enumerated() {
            let destination = IPAddress(v4: 0xC633_6400 | UInt32(t + 1))
            for minute in 0..<120 {
                var probes = [ProbeReply]()
                let second: UInt32 = t == 1 && minute >= 60 ? 0x0A00_0012 : 0x0A00_0002
                let hops: [IPAddress?] = [IPAddress(v4: 0x0A00_0001), IPAddress(v4: second), t == 2 ? nil : IPAddress(v4: 0x0A00_0003), destination]
                for (i, hop) in hops.enumerated() {
                    for p in 0..<3 {
                        let lost = hop == destination && t == 2 && (minute + p) % 5 == 0
                        probes.append(ProbeReply(ttl: UInt8(i + 1), address: lost ? nil : hop,
                                                 rttMicros: UInt32(1_000 * (i + 1) + 37 * ((minute * 3 + p) % 11)), replyTTL: 60,
                                                 icmpType: hop == destination ? 0 : 11))
                    }
                }
                let at = start + Int64(minute) * 60_000_000 + Int64(t) * 1_000_000
                runs.append(TraceRun(target: name, vantage: "fuzz", method: .icmpParis, flowID: 7, startMicros: at, endMicros: at + 500_000,
                                     destination: destination, reached: true, probes: probes))
            }
        }
        return runs
    }
}

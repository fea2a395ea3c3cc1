import ArgumentParser
import PathTSDB

#if canImport(Glibc)
import Glibc
#endif

/// `stserver crash-writer` (hidden): the writer of the crash test. Appends deterministic batches
/// forever, printing `ack N` after batch N is acknowledged, cutting the head often, compacting
/// now and then and applying retention, so that a SIGKILL can land in any of them. Before
/// retention it prints `retain N`: batches before N may be dropped from then on.
struct CrashWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crash-writer", shouldDisplay: false)

    @OptionGroup var store: DataOptions

    @Option(help: "First batch number to write.")
    var firstBatch: Int = 0

    @Option(help: "Stop after this many batches (0: never).")
    var batches: Int = 0

    func run() throws {
        var options = StoreOptions()
        options.walSync = .never  // a killed process loses nothing the kernel has
        options.headCutProbes = 3000
        options.compactionWindows = [.seconds(600), .seconds(3600)]
        options.zstdLevelCompacted = 1
        options.rawRetention = .seconds(3600)
        try reportingErrors {
            let store = try PathStore(directory: store.data, options: options)
            var n = firstBatch
            while batches == 0 || n < firstBatch + batches {
                try store.append(CrashWriterCommand.batch(n))
                print("ack \(n)")
                fflush(nil)  // all streams: the ack must leave before the next append
                if n % 25 == 24 { _ = try store.compact() }
                if n % 50 == 49 && n >= 150 {
                    // Keep the last 150 batches' raw data (a batch is a minute; retention an hour).
                    let keepFrom = n - 149
                    print("retain \(keepFrom)")
                    fflush(nil)
                    _ = try store.applyRetention(now: (1_795_284_000 + Int64(keepFrom) * 60 + 3600) * 1_000_000)
                }
                n += 1
            }
            try store.close()
        }
    }

    /// Batch `n`: five runs, one per target, each starting at a time that names the batch.
    static func batch(_ n: Int) -> [TraceRun] {
        (0..<5).map { k in
            let start = (1_795_284_000 + Int64(n) * 60) * 1_000_000 + Int64(k)
            let hops = 4 + (n / 40 + k) % 3
            var probes = [ProbeReply]()
            for ttl in 1...hops {
                for p in 0..<3 {
                    if (n + ttl + p) % 17 == 0 { probes.append(.lost(ttl: UInt8(ttl))); continue }
                    probes.append(ProbeReply(ttl: UInt8(ttl), address: IPAddress(v4: 0x0A00_0000 | UInt32(k << 8 | ttl)),
                                             rttMicros: UInt32(ttl * 1000 + (n * 7 + p * 13) % 300), replyTTL: UInt8(64 - ttl), icmpType: 11))
                }
            }
            return TraceRun(target: "crash-\(k)", vantage: "local", method: .udpParis, flowID: 1, startMicros: start,
                            endMicros: start + 1_000_000, destination: IPAddress(v4: 0x0A00_0000 | UInt32(k << 8 | hops)),
                            reached: false, probes: probes)
        }
    }
}

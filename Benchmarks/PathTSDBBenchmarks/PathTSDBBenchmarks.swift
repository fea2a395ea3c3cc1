import Benchmark
import Foundation
import PathTSDB
import Probe

/// The corpus slice every benchmark reads: the first `STBENCH_RESULTS` results (default 20,000)
/// of `$STBENCH/corpus100.jsonl`, the 100-target standard corpus (`compare.sh` makes it with
/// `../shared/bench/gen_corpus.py`, seed 42).
enum Corpus {
    static let path = (ProcessInfo.processInfo.environment["STBENCH"] ?? NSTemporaryDirectory() + "/stbench") + "/corpus100.jsonl"
    static let limit = Int(ProcessInfo.processInfo.environment["STBENCH_RESULTS"] ?? "") ?? 20_000

    /// The raw JSON lines of the slice.
    static let bytes: [UInt8] = {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            fatalError("corpus missing: run Benchmarks/compare.sh once, or set STBENCH to the folder holding corpus100.jsonl")
        }
        var out = [UInt8]()
        var lines = 0
        while lines < limit, let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            for b in chunk {
                out.append(b)
                if b == 0x0A {
                    lines += 1
                    if lines == limit { break }
                }
            }
        }
        return out
    }()

    static let runs: [[TraceRun]] = {
        var batches = [[TraceRun]]()
        _ = try? AtlasStreamReader().read(bytes: bytes, name: path, batchSize: 1000) { batches.append($0) }
        return batches
    }()

    static let samples: Int = runs.reduce(0) { $0 + $1.reduce(0) { $0 + $1.probes.filter { !$0.isLoss }.count } }

    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "/pathtsdb-bench-\(UUID().uuidString)"
    }

    /// A compacted store holding the slice, built once.
    static let store: (directory: String, store: PathStore) = {
        let dir = temporaryDirectory()
        var o = StoreOptions()
        o.walSync = .never
        do {
            let s = try PathStore(directory: dir, options: o)
            for b in runs { try s.append(b) }
            try s.flush()
            try s.compact(includeOpenWindows: true)
            return (dir, s)
        } catch {
            fatalError("building the benchmark store failed: \(error)")
        }
    }()
}

enum Metrics {
    static let bytesPerSample = BenchmarkMetric.custom("bytesPerSample", polarity: .prefersSmaller, useScalingFactor: false)
    static let samplesPerSecond = BenchmarkMetric.custom("samplesPerSecond", polarity: .prefersLarger, useScalingFactor: false)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident, Metrics.samplesPerSecond],
        warmupIterations: 1,
        maxDuration: .seconds(10),
        maxIterations: 20
    )

    Benchmark("Atlas JSON parse") { benchmark in
        let bytes = Corpus.bytes
        for _ in benchmark.scaledIterations {
            let start = ContinuousClock.now
            var n = 0
            _ = try AtlasStreamReader().read(bytes: bytes, name: "corpus", batchSize: 1000) { n += $0.count }
            blackHole(n)
            benchmark.measurement(Metrics.samplesPerSecond, rate(Corpus.samples, since: start))
        }
    }

    Benchmark("Store append (WAL, head, cuts)") { benchmark in
        let runs = Corpus.runs
        for _ in benchmark.scaledIterations {
            let dir = Corpus.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var o = StoreOptions()
            o.walSync = .never
            let store = try PathStore(directory: dir, options: o)
            let start = ContinuousClock.now
            for b in runs { try store.append(b) }
            benchmark.measurement(Metrics.samplesPerSecond, rate(Corpus.samples, since: start))
            try store.close()
        }
    }

    Benchmark("Segment bytes per RTT sample", configuration: .init(metrics: [Metrics.bytesPerSample], maxIterations: 1)) { benchmark in
        let (dir, store) = Corpus.store
        let usage = try store.diskUsage()
        blackHole(dir)
        benchmark.measurement(Metrics.bytesPerSample, Int((Double(usage.totalBytes) / Double(usage.samples) * 1000).rounded()))
    }

    Benchmark("Scan: decode every run") { benchmark in
        let snap = Corpus.store.store.snapshot()
        guard let range = snap.timeRange else { fatalError("the benchmark store is empty") }
        let all = range.lowerBound..<(range.upperBound + 1)
        for _ in benchmark.scaledIterations {
            let start = ContinuousClock.now
            var n = 0
            for (id, _) in snap.catalog.targets { n += snap.runs(of: id, in: all).table.probes.count }
            blackHole(n)
            benchmark.measurement(Metrics.samplesPerSecond, rate(Corpus.samples, since: start))
        }
    }

    for source in [StatisticsSource.raw, .rollup] {
        Benchmark("Per-hop p50/p95/loss, 1 h buckets, one target (\(source.rawValue))",
                  configuration: .init(metrics: [.wallClock], maxIterations: 200)) { benchmark in
            let snap = Corpus.store.store.snapshot()
            guard let id = snap.catalog.targetID(named: "t0007.targets.example.net"), let range = snap.timeRange else {
                fatalError("t0007 is not in the corpus slice")
            }
            let start = range.lowerBound / 3_600_000_000 * 3_600_000_000
            for _ in benchmark.scaledIterations {
                blackHole(try snap.hopStatistics(target: id, range: start..<(start + 86_400_000_000), stepMicros: 3_600_000_000,
                                                 quantiles: [0.5, 0.95], source: source))
            }
        }
    }
}

/// Samples per second since `start`.
func rate(_ samples: Int, since start: ContinuousClock.Instant) -> Int {
    let d = ContinuousClock.now - start
    let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    return Int(Double(samples) / max(s, 1e-9))
}

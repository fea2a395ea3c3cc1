import ArgumentParser
import PathTSDB
import Probe
import Query

#if canImport(Glibc)
import Glibc
#endif

/// `stserver bench` (hidden): in-process measurements for `Benchmarks/compare.sh`, each printed
/// as one JSON object per line.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", shouldDisplay: false)

    enum Measurement: String, ExpressibleByArgument, CaseIterable { case query, language, scan, append }

    @OptionGroup var store: DataOptions

    @Option(help: "What to measure: query, scan, append.")
    var what: Measurement

    @Option(help: "Query target.")
    var target: String = "t0007.targets.example.net"

    @Option(name: .customLong("repeat"), help: "Repetitions (the median is reported).")
    var repetitions: Int = 5

    @Option(help: "append: the corpus to decode first (RIPE Atlas JSON lines).")
    var corpus: String?

    @Option(help: "append: at most this many results.")
    var limit: Int = 200_000

    @Option(help: "language: only the query of this name; scan: only these fields (timing or all).")
    var only: String?

    func run() throws {
        try reportingErrors {
            switch what {
            case .query: try measureQuery()
            case .language: try measureLanguage()
            case .scan: try measureScan()
            case .append: try measureAppend()
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

    /// The anchors' query: p50, p95 and loss per hop of one target, 1-hour buckets over the
    /// first 24 hours of data, quantiles pooled over every probe of a hop.
    func measureQuery() throws {
        let store = try PathStore(directory: store.data)
        defer { try? store.close() }
        let snap = store.snapshot()
        guard let id = snap.catalog.targetID(named: target), let range = snap.timeRange else {
            throw StorageError(.notFound, "no target named \"\(target)\"")
        }
        let start = range.lowerBound / 3_600_000_000 * 3_600_000_000
        let window = start..<(start + 86_400_000_000)
        for source in [StatisticsSource.raw, .rollup] {
            var times = [Double]()
            var rows = 0
            for i in 0...repetitions {
                let clock = ContinuousClock()
                let t0 = clock.now
                let r = try snap.hopStatistics(target: id, range: window, stepMicros: 3_600_000_000, quantiles: [0.5, 0.95], source: source)
                let dt = BenchCommand.seconds(clock.now - t0)
                rows = r.rows.count
                if i > 0 { times.append(dt) }  // the first run warms the page cache
            }
            print(#"{"measure":"query","source":"\#(source.rawValue)","rows":\#(rows),"median_ms":\#(BenchCommand.median(times) * 1000)}"#)
        }
    }

    /// Representative queries of the language, each timed from text to last row, through the
    /// same engine the HTTP API and `stserver query` use. Relative times count from the newest data.
    func measureLanguage() throws {
        let store = try PathStore(directory: store.data)
        defer { try? store.close() }
        let snap = store.snapshot()
        guard let range = snap.timeRange else { throw StorageError(.notFound, "the store is empty") }
        let start = range.lowerBound / 3_600_000_000 * 3_600_000_000
        let day = "from \(RFC3339.format(micros: start)) to \(RFC3339.format(micros: start + 86_400_000_000))"
        let context = QueryContext(nowMicros: range.upperBound + 1)
        let queries: [(String, String)] = [
            ("hop_stats_24x1h", "stats p50, p95, loss of \(target) \(day) step 1h"),
            ("hop_stats_24x1h_raw", "stats p50, p95, loss of \(target) \(day) step 1h using raw"),
            ("alert_last_1h_all_targets", "stats loss, p95 of all last 1h by target where loss > 10% or p95 > 150ms"),
            ("worst_10_targets_by_loss", "stats loss, p95 of all by target order by loss desc limit 10"),
            ("changes_last_24h_all", "changes of all last 24h"),
            ("paths_one_target", "paths of \(target)"),
            ("probes_one_target_day", "probes of \(target)"),
        ]
        for (name, text) in queries where only == nil || only == name {
            var times = [Double]()
            var rows = 0
            var summary = ""
            for i in 0...max(1, repetitions) {
                let clock = ContinuousClock()
                let t0 = clock.now
                var cursor = try QueryEngine.cursor(text, snapshot: snap, context: context)
                var n = 0
                while let batch = try cursor.next() { n += batch.count }
                let dt = BenchCommand.seconds(clock.now - t0)
                rows = n
                summary = cursor.plan.summary
                if i > 0 { times.append(dt) }
            }
            print(#"{"measure":"language","name":"\#(name)","rows":\#(rows),"plan":"\#(summary)","median_ms":\#(BenchCommand.median(times) * 1000)}"#)
        }
    }

    /// Decodes every run of every target, single-threaded: once as queries and exports read
    /// (TTL, address, RTT), once with every field.
    func measureScan() throws {
        let store = try PathStore(directory: store.data)
        defer { try? store.close() }
        let snap = store.snapshot()
        for (name, fields) in [("timing", ProbeFields.timing), ("all", ProbeFields.all)] where only == nil || only == name {
            var times = [Double]()
            var samples = 0
            for _ in 0..<max(1, repetitions) {
                var n = 0
                let clock = ContinuousClock()
                let t0 = clock.now
                for seg in snap.segments {
                    for t in seg.targets {
                        let table = try seg.runs(of: t, catalog: snap.catalog, fields: fields)
                        for p in table.probes where !p.isLoss { n += 1 }
                    }
                }
                times.append(BenchCommand.seconds(clock.now - t0))
                samples = n
            }
            let m = BenchCommand.median(times)
            print(#"{"measure":"scan","fields":"\#(name)","samples":\#(samples),"seconds":\#(m),"samples_per_s":\#(Double(samples) / m)}"#)
        }
    }

    /// Appends decoded runs to a fresh store, timing only the appends.
    func measureAppend() throws {
        guard let corpus else { throw ValidationError("--corpus is required for append") }
        struct Enough: Error {}
        var runs = [[TraceRun]]()
        var count = 0
        do {
            _ = try AtlasStreamReader().read(path: corpus, batchSize: 1000) { batch in
                guard count < limit else { throw Enough() }
                runs.append(batch)
                count += batch.count
            }
        } catch is Enough {
            // Read as far as needed.
        }
        let samples = runs.reduce(0) { $0 + $1.reduce(0) { $0 + $1.probes.filter { !$0.isLoss }.count } }
        var options = StoreOptions()
        options.walSync = .never
        let store = try PathStore(directory: self.store.data, options: options)
        let clock = ContinuousClock()
        let t0 = clock.now
        for b in runs { try store.append(b) }
        let appended = BenchCommand.seconds(clock.now - t0)
        store.waitForCuts()  // the clock stops when the cuts the appends started are written
        let dt = BenchCommand.seconds(clock.now - t0)
        try store.close()
        print(#"{"measure":"append","runs":\#(count),"samples":\#(samples),"seconds":\#(dt),"appends_seconds":\#(appended),"samples_per_s":\#(Double(samples) / dt)}"#)
    }
}

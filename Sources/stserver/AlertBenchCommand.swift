import Alerting
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PathTSDB

/// `stserver alert-bench` (hidden): the alerting figures of `Benchmarks/alerts.sh` — the time
/// to judge one round of runs of every target against five rules each, on a store holding
/// `--hours` of those targets, with the runs handed over as the monitor does and read back as
/// for other writers; and the time from storing the run that shows a path change to a webhook
/// on loopback receiving the alert. One JSON object per line.
struct AlertBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alert-bench", shouldDisplay: false)

    @OptionGroup var store: DataOptions

    @Option(help: "Targets.")
    var targets: Int = 10_000

    @Option(help: "Hours of runs to hold before the measured rounds.")
    var hours: Int = 24

    @Option(help: "Seconds between a target's runs.")
    var interval: Int = 300

    @Option(help: "Rounds timed (the median is reported).")
    var rounds: Int = 5

    static let rules = """
        rules:
          - name: path
            when: { path_changed: { lasting: 2 } }
          - name: loss
            when: { loss: { percent: 20, runs: 5 } }
          - name: slower
            when: { rtt_increase: { hop: any, by_ms: 30, baseline: { runs: 10 } } }
          - name: unreachable
            when: { destination_unreachable: true }
          - name: longer
            when: { hop_count_grew: { by: 2 } }
        """

    /// A synthetic run: 10 hops of 3 probes on one of two paths, RTTs a few ms a hop.
    static func run(target: Int, start: Int64, alternate: Bool = false) -> TraceRun {
        var probes = [ProbeReply]()
        let base = UInt32(0x0A00_0000) | UInt32(target % 60_000) << 8
        for ttl in 1...10 {
            let address = IPAddress(v4: ttl == 10 ? base | 250 : (alternate && ttl == 5 ? base | 200 : UInt32(0xC0A8_0000) | UInt32(ttl)))
            for p in 0..<3 {
                let rtt = UInt32(ttl * 1500 + (target * 7 + p * 13 + Int(start / 1_000_000)) % 900)
                probes.append(ProbeReply(ttl: UInt8(ttl), address: address, rttMicros: rtt, replyTTL: 60, icmpType: ttl == 10 ? 3 : 11))
            }
        }
        return TraceRun(target: "bench/t\(target)", vantage: "bench", method: .udpParis, flowID: 1, startMicros: start,
                        endMicros: start + 500_000, destination: IPAddress(v4: base | 250), reached: true, probes: probes)
    }

    /// One result line, written at once (a pipe would otherwise hold it until exit).
    static func emit(_ line: String) {
        let out = StandardOutput()
        out.write(line + "\n")
        out.flush()
    }

    func run() async throws {
        try await reportingErrors {
            var options = StoreOptions()
            options.walSync = .never
            let db = try PathStore(directory: store.data, options: options)
            let step = Int64(interval) * 1_000_000
            // Every run in the past, as the monitor's are: the history, then the timed rounds,
            // then the latency runs, the last of them before the wall clock.
            let now = WallClock.nowMicros() / step * step - Int64(2 * rounds + 8) * step
            let first = now - Int64(hours) * 3_600_000_000
            // The history, a round at a time.
            var t = first
            while t < now {
                try db.append((0..<targets).map { Self.run(target: $0, start: t + Int64($0 % 1000) * 1000) })
                t += step
            }
            db.waitForCuts()
            let list = (0..<targets).map { AlertTarget(name: "bench/t\($0)", intervalMicros: step) }
            // Two ways in: the monitor's (each run appended alone, its table handed to the
            // engine), and any other writer's (the targets marked, their new runs read back).
            for handOver in [true, false] {
                let engine = try AlertEngine(store: db, rules: try RulesFile.parse(Self.rules, source: "bench"), logger: Logger(label: "bench"))
                var times = [Double]()
                var judged = 0
                for r in 0..<rounds {
                    let start = now + Int64(r + (handOver ? 0 : rounds)) * step
                    let runs = (0..<targets).map { Self.run(target: $0, start: start + Int64($0 % 1000) * 1000) }
                    if handOver {
                        for run in runs { engine.markStored(target: run.target, try db.append([run])) }
                    } else {
                        try db.append(runs)
                        engine.markDirty(list.map(\.name))
                    }
                    // A cut the appends started would otherwise share the one core with the round.
                    db.waitForCuts()
                    let clock = ContinuousClock()
                    let t0 = clock.now
                    let transitions = engine.evaluate(targets: list, now: start + step - 1)
                    times.append(BenchCommand.seconds(clock.now - t0))
                    judged += transitions.count
                }
                let measure = handOver ? "alert_round" : "alert_round_read_back"
                Self.emit(#"{"measure":"\#(measure)","targets":\#(targets),"rules_per_target":5,"hours_held":\#(hours),"median_ms":\#(BenchCommand.median(times) * 1000),"rounds_ms":[\#(times.map { String(Int(($0 * 1000).rounded())) }.joined(separator: ","))],"transitions":\#(judged)}"#)
            }
            try await measureLatency(db: db, step: step, after: now + Int64(2 * rounds) * step)
            try db.close()
        }
    }

    /// From the append of the run that shows a change to the webhook's receipt, through the
    /// engine's own loop (as `serve` runs it) and a real HTTP POST on loopback.
    func measureLatency(db: PathStore, step: Int64, after: Int64) async throws {
        let (received, receipt) = AsyncStream<ContinuousClock.Instant>.makeStream()
        let router = Router()
        router.post("hook") { _, _ -> HTTPResponse.Status in
            receipt.yield(ContinuousClock.now)
            return .ok
        }
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { portSink.yield($0.localAddress?.port ?? 0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var portIterator = ports.makeAsyncIterator()
            let port = await portIterator.next() ?? 0
            let rules = "rules:\n  - name: path\n    when: { path_changed: {} }\nreceivers:\n  - name: hook\n    webhook: { url: \"http://127.0.0.1:\(port)/hook\" }\n"
            let engine = try AlertEngine(store: db, rules: try RulesFile.parse(rules, source: "bench"), logger: Logger(label: "bench"))
            let target = AlertTarget(name: "bench/t0", intervalMicros: step)
            group.addTask { await engine.run(targets: { [target] }) }
            var samples = [Double]()
            var receipts = received.makeAsyncIterator()
            var start = after
            for i in 0..<6 {
                // Alternate paths: every run is a change, which fires or resolves the alert.
                let t0 = ContinuousClock.now
                engine.markStored(target: target.name, try db.append([Self.run(target: 0, start: start, alternate: i % 2 == 0)]))
                guard let got = await receipts.next() else { break }
                samples.append(BenchCommand.seconds(got - t0))
                start += step
            }
            Self.emit(#"{"measure":"alert_latency","median_ms":\#(BenchCommand.median(samples) * 1000),"max_ms":\#((samples.max() ?? 0) * 1000),"changes":\#(samples.count)}"#)
            group.cancelAll()
        }
    }
}

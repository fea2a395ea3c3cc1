import Alerting
import ArgumentParser
import Query
import Dispatch
import Logging
import PathTSDB
import Probe
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `stserver monitor`: traces the targets of a targets file on their schedule into the store.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Trace the targets of a YAML targets file on their schedule and store every run.",
        discussion: "With --rules, alerts are evaluated after every run and delivered. SIGHUP reloads the targets file and the rules file (a file with errors is reported and the old targets kept); SIGINT or SIGTERM stops after the traces in flight.")

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "The targets file (YAML).")
    var config: String

    @Option(name: .long, help: "Alert rules file (YAML, docs/ALERTS.md): evaluate it after every run and deliver its notifications.")
    var rules: String?

    @Option(name: .long, help: "Vantage point name the runs are stored under.")
    var vantage: String = "local"

    @Option(name: .long, help: "When a run is acknowledged: always (once fsynced, syncs shared by the runs written meanwhile), never (once written; the kernel syncs), or an interval such as 1s (once written; synced at most this long after).")
    var sync: String = "always"

    @Option(name: .long, help: "At most this many traces at once.")
    var concurrency: Int = 64

    @Option(name: .long, help: "At most this many probes per second, all traces together.")
    var pps: Int = 10_000

    @Option(name: .long, help: "Stop after this long (e.g. 10m); run until stopped without it.")
    var duration: String?

    func run() async throws {
        try await reportingErrors {
            let loading = ContinuousClock.now
            let targets = try TargetConfiguration.parse(try readFile(config), source: config)
            var options = StoreOptions()
            options.walSync = try SyncPolicyText.parse(sync)
            let store = try PathStore(directory: store.data, options: options)
            let logger = Logger(label: "smoketrace.monitor")
            let ruleSet = try rules.map { path in
                RuleSet(path: path, engine: try AlertEngine(store: store, rules: try RuleSet.read(path), logger: logger))
            }
            let engine = ruleSet?.engine
            let monitor = Monitor(store: store, vantage: vantage, maxConcurrent: concurrency, packetsPerSecond: pps,
                                  onStored: { engine?.markStored(target: $0.target, $1) })
            let current = CurrentTargets(targets)
            let loadMillis = Int(((ContinuousClock.now - loading) / .milliseconds(1)).rounded())
            logger.info("targets loaded", metadata: ["targets": "\(targets.count)", "ms": "\(loadMillis)"])
            let configPath = config
            let signals = [SIGHUP, SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler {
                    guard sig == SIGHUP else {
                        monitor.stop()
                        return
                    }
                    if let ruleSet {
                        do {
                            ruleSet.engine.reload(try RuleSet.read(ruleSet.path))
                        } catch {
                            logger.error("rules file not reloaded; keeping the old rules", metadata: ["error": "\(error)"])
                        }
                    }
                    do {
                        let list = try TargetConfiguration.parse(try readFile(configPath), source: configPath)
                        current.replace(list)
                        monitor.reload(list)
                    } catch {
                        logger.error("targets file not reloaded; keeping the old targets", metadata: ["error": "\(error)"])
                    }
                }
                source.resume()
                return source
            }
            defer { signals.forEach { $0.cancel() } }
            let stopAfter = try duration.map { text -> Int64 in
                guard let micros = DurationText.parseMicros(text) else { throw ValidationError("--duration takes a duration such as 10m") }
                return micros
            }
            await withDiscardingTaskGroup { group in
                if let stopAfter {
                    group.addTask {
                        try? await Task.sleep(for: .microseconds(stopAfter))
                        monitor.stop()
                    }
                }
                if let engine {
                    group.addTask { await engine.run(targets: { RuleSet.alertTargets(current.targets) }) }
                }
                await monitor.run(targets: targets)
                // Judge the last runs before stopping, and give their notifications a moment.
                if let engine {
                    engine.evaluate(targets: RuleSet.alertTargets(current.targets))
                }
                group.cancelAll()
            }
            try store.close()
            let c = monitor.counters
            print("monitor: \(c.started) traces started, \(c.stored) stored, \(c.failed) failed, \(c.missed) slots missed; "
                  + "started at most \(c.maxLatenessMicros / 1000) ms after the slot, \(c.startedOverOneSecondLate) more than 1 s after")
        }
    }
}

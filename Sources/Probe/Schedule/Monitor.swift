package import Logging
package import PathTSDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Traces targets on their schedule and stores every run: the monitor.
///
/// One task group holds every trace in flight; `run` returns when `stop()` is called (or the
/// task is cancelled) and every trace it started has ended. The target list can be replaced
/// while it runs (`reload`), keeping the slots of targets that stay.
package final class Monitor: Sendable {
    /// What the monitor has done so far.
    package struct Counters: Sendable, Equatable {
        package var started = 0
        package var stored = 0
        package var failed = 0
        package var missed = 0
        /// How late starts were against their slots: the most, and how many by more than 1 s.
        package var maxLatenessMicros: Int64 = 0
        package var startedOverOneSecondLate = 0
        package init() {}
    }

    private let store: PathStore
    /// Appends and missed slots go to the store from here, off the cooperative pool.
    private let writes: StoreWriteQueue
    private let vantage: String
    private let commandPrefix: [String]
    private let maxConcurrent: Int
    private let packetsPerSecond: Int
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var counters = Counters()
        var finished: [String] = []
        var pendingReload: [ScheduledTarget]?
        var stopping = false
    }

    /// Rung when a trace ends, the targets are reloaded or a stop is asked: the loop sleeps
    /// until the next slot or this, never polling.
    private let doorbell = Doorbell()
    /// Missed slots are logged as one summary line per `missedLogEvery`, not a line each.
    static let missedLogInterval: Int64 = 10_000_000

    /// - Parameters:
    ///   - commandPrefix: words put before a system tool's command line (`ip netns exec NS`).
    ///   - namespace: the network namespace the native prober traces from.
    ///   - onStored: called with each run once it is stored, and the store's table of it
    ///     (alerting judges it from that table; `/metrics` counts it).
    package init(store: PathStore, vantage: String, commandPrefix: [String] = [], namespace: String? = nil, maxConcurrent: Int = 64,
                packetsPerSecond: Int = 10_000, logger: Logger = Logger(label: "smoketrace.monitor"),
                onStored: (@Sendable (TraceRun, RunTable) -> Void)? = nil) {
        self.onStored = onStored
        self.store = store
        writes = StoreWriteQueue(store: store)
        self.vantage = vantage
        self.commandPrefix = commandPrefix
        self.maxConcurrent = maxConcurrent
        self.packetsPerSecond = packetsPerSecond
        self.logger = logger
        state = Mutex(State())
        native = NativeProber(namespace: namespace, packetsPerSecond: packetsPerSecond, logger: logger)
    }

    private let onStored: (@Sendable (TraceRun, RunTable) -> Void)?

    /// The native prober every `native` target shares (one set of sockets, one pps budget).
    private let native: NativeProber

    package var counters: Counters { state.withLock { $0.counters } }

    /// Replaces the targets at the next tick.
    package func reload(_ targets: [ScheduledTarget]) {
        state.withLock { $0.pendingReload = targets }
        doorbell.ring()
    }

    /// Ends `run` after the traces in flight.
    package func stop() {
        state.withLock { $0.stopping = true }
        doorbell.ring()
    }

    /// Runs until `stop()` or cancellation.
    package func run(targets: [ScheduledTarget]) async {
        var schedule = Schedule(targets: targets, nowMicros: WallClock.nowMicros(), maxConcurrent: maxConcurrent,
                                packetsPerSecond: packetsPerSecond)
        logger.info("monitor started", metadata: ["targets": "\(targets.count)", "concurrency": "\(maxConcurrent)", "pps": "\(packetsPerSecond)"])
        var missedLog = MissedSummary()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let (finished, reload, stopping) = state.withLock { s in
                    defer { s.finished.removeAll(); s.pendingReload = nil }
                    return (s.finished, s.pendingReload, s.stopping)
                }
                for name in finished { schedule.finished(name) }
                if stopping {
                    // Slots held for capacity will not start now: they are data too.
                    record(schedule.stop(), summary: &missedLog, in: &group)
                    break
                }
                if let reload {
                    schedule.reload(reload, nowMicros: WallClock.nowMicros())
                    logger.info("targets reloaded", metadata: ["targets": "\(reload.count)"])
                }
                let now = WallClock.nowMicros()
                var missed = [Schedule.Decision]()
                for decision in schedule.advance(to: now) {
                    switch decision {
                    case .start(let target, let slot):
                        let late = max(0, now - slot)
                        state.withLock {
                            $0.counters.started += 1
                            $0.counters.maxLatenessMicros = max($0.counters.maxLatenessMicros, late)
                            if late > 1_000_000 { $0.counters.startedOverOneSecondLate += 1 }
                        }
                        group.addTask { await self.trace(target) }
                    case .missed:
                        missed.append(decision)
                    }
                }
                record(missed, summary: &missedLog, in: &group)
                if missedLog.due(now) { missedLog.log(to: logger, now: now) }
                // Sleep until the next slot (or a held slot's deadline, or the packet budget's
                // refill); a trace ending, a reload or a stop rings the doorbell first.
                let wait = min(max((schedule.nextWakeupMicros ?? Int64.max) - WallClock.nowMicros(), 0), Monitor.missedLogInterval)
                if wait > 0 { await doorbell.wait(atMost: .microseconds(wait)) }
            }
        }
        missedLog.log(to: logger, now: WallClock.nowMicros())
        let c = counters
        logger.info("monitor stopped", metadata: ["stored": "\(c.stored)", "missed": "\(c.missed)", "failed": "\(c.failed)",
                                                 "max_lateness_ms": "\(c.maxLatenessMicros / 1000)"])
    }

    /// Stores missed slots, one write for the lot, and counts them for the summary.
    private func record(_ decisions: [Schedule.Decision], summary: inout MissedSummary, in group: inout DiscardingTaskGroup) {
        let slots = decisions.compactMap { d -> MissedSlot? in
            guard case .missed(let name, let slot, let reason) = d else { return nil }
            summary.add(name, reason)
            return MissedSlot(target: name, vantage: vantage, slotMicros: slot, reason: reason.stored)
        }
        guard !slots.isEmpty else { return }
        state.withLock { $0.counters.missed += slots.count }
        group.addTask {
            do {
                try await self.writes.run { [store = self.store] in try store.recordMissed(slots) }
            } catch {
                self.logger.error("missed slots not recorded", metadata: ["count": "\(slots.count)", "error": "\(error)"])
            }
        }
    }

    private func trace(_ target: ScheduledTarget) async {
        defer {
            state.withLock { $0.finished.append(target.name) }
            doorbell.ring()
        }
        let started = WallClock.nowMicros()
        do {
            let result = target.tool == .native
                ? try await native.trace(target.address, settings: target.settings)
                : try await SystemTracer(tool: target.tool, commandPrefix: commandPrefix).trace(target.address, settings: target.settings)
            guard let run = result.run(target: target.name, vantage: vantage, method: target.settings.method) else {
                throw ProbeError(.malformedInput, "\(target.tool.rawValue) did not name the destination")
            }
            let stored = try await writes.append(run)
            state.withLock { $0.counters.stored += 1 }
            onStored?(run, stored)
        } catch {
            logger.error("trace failed", metadata: ["target": "\(target.name)", "error": "\(error)"])
            // A failed trace is data: stored with what failed, so `missed` and the API show it.
            let failed = MissedSlot(target: target.name, vantage: vantage, slotMicros: started, reason: .failed, detail: String(describing: error))
            do {
                try await writes.run { [store] in try store.recordMissed([failed]) }
            } catch {
                logger.error("failed trace not recorded", metadata: ["target": "\(target.name)", "error": "\(error)"])
            }
            state.withLock { $0.counters.failed += 1 }
        }
    }
}

/// Missed slots counted by reason between two log lines: under overload a line per slot would
/// drown the log (and cost more than the monitor's work).
struct MissedSummary {
    private var counts: [Schedule.MissReason: Int] = [:]
    private var examples: [String] = []
    private var lastLog: Int64 = WallClock.nowMicros()

    mutating func add(_ name: String, _ reason: Schedule.MissReason) {
        counts[reason, default: 0] += 1
        if examples.count < 3 && !examples.contains(name) { examples.append(name) }
    }

    func due(_ now: Int64) -> Bool { !counts.isEmpty && now - lastLog >= Monitor.missedLogInterval }

    mutating func log(to logger: Logger, now: Int64) {
        defer { counts = [:]; examples = []; lastLog = now }
        guard !counts.isEmpty else { return }
        var metadata: Logger.Metadata = ["targets": "\(examples.joined(separator: ","))\(counts.values.reduce(0, +) > examples.count ? ",…" : "")"]
        for (reason, n) in counts { metadata[String(reason.rawValue.map { $0 == " " ? "_" : $0 })] = "\(n)" }
        logger.warning("runs missed", metadata: metadata)
    }
}

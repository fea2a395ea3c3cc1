import Logging
import PathTSDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Traces targets on their schedule and stores every run: the monitor.
///
/// One task group holds every trace in flight; `run` returns when `stop()` is called (or the
/// task is cancelled) and every trace it started has ended. The target list can be replaced
/// while it runs (`reload`), keeping the slots of targets that stay.
public final class Monitor: Sendable {
    /// What the monitor has done so far.
    public struct Counters: Sendable, Equatable {
        public var started = 0
        public var stored = 0
        public var failed = 0
        public var missed = 0
        public init() {}
    }

    private let store: PathStore
    /// Appends and missed slots go to the store from here, off the cooperative pool.
    private let writes = StoreWriteQueue()
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

    /// - Parameters:
    ///   - commandPrefix: words put before a system tool's command line (`ip netns exec NS`).
    ///   - namespace: the network namespace the native prober traces from.
    ///   - onStored: called with each run once it is stored, and the store's table of it
    ///     (alerting judges it from that table; `/metrics` counts it).
    public init(store: PathStore, vantage: String, commandPrefix: [String] = [], namespace: String? = nil, maxConcurrent: Int = 64,
                packetsPerSecond: Int = 10_000, logger: Logger = Logger(label: "smoketrace.monitor"),
                onStored: (@Sendable (TraceRun, RunTable) -> Void)? = nil) {
        self.onStored = onStored
        self.store = store
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

    public var counters: Counters { state.withLock { $0.counters } }

    /// Replaces the targets at the next tick.
    public func reload(_ targets: [ScheduledTarget]) {
        state.withLock { $0.pendingReload = targets }
    }

    /// Ends `run` after the traces in flight.
    public func stop() {
        state.withLock { $0.stopping = true }
    }

    /// Runs until `stop()` or cancellation.
    public func run(targets: [ScheduledTarget]) async {
        var schedule = Schedule(targets: targets, nowMicros: WallClock.nowMicros(), maxConcurrent: maxConcurrent,
                                packetsPerSecond: packetsPerSecond)
        logger.info("monitor started", metadata: ["targets": "\(targets.count)"])
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let (finished, reload, stopping) = state.withLock { s in
                    defer { s.finished.removeAll(); s.pendingReload = nil }
                    return (s.finished, s.pendingReload, s.stopping)
                }
                if stopping { break }
                for name in finished { schedule.finished(name) }
                if let reload {
                    schedule.reload(reload, nowMicros: WallClock.nowMicros())
                    logger.info("targets reloaded", metadata: ["targets": "\(reload.count)"])
                }
                for decision in schedule.advance(to: WallClock.nowMicros()) {
                    switch decision {
                    case .start(let target, _):
                        state.withLock { $0.counters.started += 1 }
                        group.addTask { await self.trace(target) }
                    case .missed(let name, let slot, let reason):
                        state.withLock { $0.counters.missed += 1 }
                        logger.warning("run missed", metadata: ["target": "\(name)", "slot": "\(slot)", "reason": "\(reason.rawValue)"])
                        let slotRecord = MissedSlot(target: name, vantage: vantage, slotMicros: slot, reason: reason.stored)
                        group.addTask {
                            do {
                                try await self.writes.run { [store = self.store] in try store.recordMissed([slotRecord]) }
                            } catch {
                                self.logger.error("missed slot not recorded", metadata: ["target": "\(name)", "error": "\(error)"])
                            }
                        }
                    }
                }
                // Wake for the next slot, or soon enough to see traces finish.
                let wait = min(max((schedule.nextWakeupMicros ?? Int64.max) - WallClock.nowMicros(), 1000), 100_000)
                try? await Task.sleep(for: .microseconds(wait))
            }
        }
        logger.info("monitor stopped", metadata: ["stored": "\(counters.stored)", "missed": "\(counters.missed)"])
    }

    private func trace(_ target: ScheduledTarget) async {
        defer { state.withLock { $0.finished.append(target.name) } }
        let started = WallClock.nowMicros()
        do {
            let result = target.tool == .native
                ? try await native.trace(target.address, settings: target.settings)
                : try await SystemTracer(tool: target.tool, commandPrefix: commandPrefix).trace(target.address, settings: target.settings)
            guard let run = result.run(target: target.name, vantage: vantage, method: target.settings.method) else {
                throw ProbeError(.malformedInput, "\(target.tool.rawValue) did not name the destination")
            }
            let stored = try await writes.run { [store] in try store.append([run]) }
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

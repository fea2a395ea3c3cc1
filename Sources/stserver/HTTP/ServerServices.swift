import Alerting
import Logging
import PathTSDB
import Probe
import ServiceLifecycle
import UnixSignals

/// The monitor as a service of the server: traces until the server shuts down, then lets the
/// traces in flight finish.
struct MonitorService: Service {
    let monitor: Monitor
    let registry: TargetRegistry

    func run() async throws {
        await withGracefulShutdownHandler {
            await monitor.run(targets: registry.targets)
        } onGracefulShutdown: {
            monitor.stop()
        }
    }
}

/// Compaction and retention on a schedule, off the request path.
struct MaintenanceService: Service {
    let store: PathStore
    let every: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // The wait ends at shutdown; a step already running is let finish.
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
            } catch {
                return
            }
            do {
                let dropped = try await offload { try store.applyRetention() }
                let merged = try await offload { try store.compact() }
                logger.info("maintenance done", metadata: ["compacted": "\(merged)", "retention": "\(dropped)"])
            } catch {
                logger.error("maintenance failed; the store is unchanged by the failed step", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Evaluates the alert rules as runs come in and delivers the notifications, until shutdown.
struct AlertService: Service {
    let rules: RuleSet
    let registry: TargetRegistry

    func run() async throws {
        let registry = self.registry
        await cancelWhenGracefulShutdownIgnoringError {
            await rules.engine.run(targets: { RuleSet.alertTargets(registry.targets) })
        }
    }
}

extension Service {
    /// Runs `body` until it returns or the service is asked to shut down.
    func cancelWhenGracefulShutdownIgnoringError(_ body: @escaping @Sendable () async -> Void) async {
        _ = await cancelWhenGracefulShutdown { await body() }
    }
}

/// Reloads the targets file (and the rules file) on SIGHUP.
struct ReloadOnHangup: Service {
    let registry: TargetRegistry
    var rules: RuleSet? = nil
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            if let rules {
                do {
                    let n = try await rules.reload()
                    logger.info("rules file reloaded", metadata: ["rules": "\(n)"])
                } catch {
                    logger.error("rules file not reloaded; keeping the old rules", metadata: ["error": "\(error)"])
                }
            }
            do {
                let n = try await registry.reload()
                logger.info("targets file reloaded", metadata: ["targets": "\(n)"])
            } catch {
                logger.error("targets file not reloaded; keeping the old targets", metadata: ["error": "\(error)"])
            }
        }
    }
}

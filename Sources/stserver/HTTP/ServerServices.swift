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

/// Reloads the targets file on SIGHUP.
struct ReloadOnHangup: Service {
    let registry: TargetRegistry
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                let n = try await registry.reload()
                logger.info("targets file reloaded", metadata: ["targets": "\(n)"])
            } catch {
                logger.error("targets file not reloaded; keeping the old targets", metadata: ["error": "\(error)"])
            }
        }
    }
}

import Dispatch
import PathTSDB
import Synchronization

/// Runs the store's blocking writes (an append waits for `write(2)` and, by policy, `fsync`) on a
/// thread of their own. The monitor's traces run as tasks on the cooperative pool, one thread per
/// core; a trace that waited there on the disk would hold up every other trace's timing.
/// One serial queue: the store serialises its writers anyway, so more threads would only wait.
///
/// Runs are appended in batches: the runs that finish while an append (and its sync) is under
/// way are appended together by the next, as one WAL record and one sync. A monitor whose
/// appends each waited for their own sync would trace no faster than the disk syncs.
final class StoreWriteQueue: Sendable {
    private let queue = DispatchQueue(label: "smoketrace.monitor.store-writes")
    private let store: PathStore
    private let pending = Mutex(Pending())

    private struct Pending {
        var runs: [TraceRun] = []
        var waiting: [CheckedContinuation<RunTable, any Error>] = []
        /// A drain is queued or running: it will take what is added.
        var draining = false
    }

    init(store: PathStore) {
        self.store = store
    }

    /// Stores `run` with the runs queued beside it.
    /// - Returns: the store's table of the run (empty when the store held it already).
    /// - Throws: what the store threw for the batch; a run the store cannot hold is refused
    ///   alone, before it joins one.
    func append(_ run: TraceRun) async throws -> RunTable {
        try run.validate()
        return try await withCheckedThrowingContinuation { continuation in
            let startDrain = pending.withLock { p -> Bool in
                p.runs.append(run)
                p.waiting.append(continuation)
                guard !p.draining else { return false }
                p.draining = true
                return true
            }
            if startDrain { queue.async { self.drain() } }
        }
    }

    /// Appends what is pending, batch after batch, until nothing is.
    private func drain() {
        while true {
            let (runs, waiting) = pending.withLock { p -> ([TraceRun], [CheckedContinuation<RunTable, any Error>]) in
                defer { p.runs = []; p.waiting = [] }
                if p.runs.isEmpty { p.draining = false }
                return (p.runs, p.waiting)
            }
            guard !runs.isEmpty else { return }
            do {
                let result = try store.appendReporting(runs)
                // The stored runs are the batch's minus its duplicates, in order.
                var tables = [RunTable](repeating: RunTable(), count: waiting.count)
                for (next, i) in result.storedIndices(of: runs.count).enumerated() {
                    tables[i].append(result.table.runs[next], from: result.table)
                }
                for (continuation, table) in zip(waiting, tables) { continuation.resume(returning: table) }
            } catch {
                for continuation in waiting { continuation.resume(throwing: error) }
            }
        }
    }

    /// Runs waiting for the next append.
    var pendingCount: Int { pending.withLock { $0.runs.count } }

    /// Runs `body` on the queue and returns what it returned (or throws what it threw).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

import Dispatch

/// Runs the store's blocking writes (an append waits for `write(2)` and, by policy, `fsync`) on a
/// thread of their own. The monitor's traces run as tasks on the cooperative pool, one thread per
/// core; a trace that waited there on the disk would hold up every other trace's timing.
/// One serial queue: the store serialises its writers anyway, so more threads would only wait.
final class StoreWriteQueue: Sendable {
    private let queue = DispatchQueue(label: "smoketrace.monitor.store-writes")

    /// Runs `body` on the queue and returns what it returned (or throws what it threw).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

import Synchronization

/// Holds every trace of a prober to one packets-per-second budget: each probe takes the next
/// free slot, `1/rate` after the one before, and waits for it.
final class PacketPacer: Sendable {
    private let interval: Duration
    private let next: Mutex<ContinuousClock.Instant>

    init(packetsPerSecond: Int) {
        interval = .nanoseconds(1_000_000_000 / Int64(max(1, packetsPerSecond)))
        next = Mutex(.now)
    }

    /// Waits until this caller may send one packet.
    func waitForSlot() async {
        let slot = next.withLock { n -> ContinuousClock.Instant in
            let now = ContinuousClock.now
            // An idle prober does not bank slots: a burst after a pause is still paced.
            let s = n > now ? n : now
            n = s + interval
            return s
        }
        if slot > .now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}

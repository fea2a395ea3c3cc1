import DequeModule
import Foundation
import PathTSDB

/// The one thread that sends a prober's probes, at most `packetsPerSecond` of them, all traces
/// together. A trace hands over the probes of one TTL and waits only for their answers: the
/// sender paces them, stamps each probe's send time just before it goes out, and starts the
/// TTL's deadline once the last has left. One thread sleeping to pace is cheaper than a timer
/// per trace, and a trace suspends once per TTL rather than twice.
///
/// `@unchecked Sendable`: `queue`, `running` and `next` are touched only under `condition`.
final class ProbeSender: @unchecked Sendable {
    struct Probe {
        var id: UInt16
        var ttl: UInt8
        var bytes: [UInt8]
    }

    struct Batch {
        var socket: RawSocket
        var destination: IPAddress
        var probes: [Probe]
        var waiter: HopWaiter
        var wait: Duration
    }

    private let condition = NSCondition()
    private var queue = Deque<Batch>()
    private var running = true
    private let interval: Duration
    /// How far ahead of the average rate an idle sender may get: a short burst, never more.
    private let burst: Duration = .milliseconds(5)
    private var next = ContinuousClock.now
    private let deadlines: HopDeadlines
    private let stamp: @Sendable (UInt16, Int64) -> Void

    /// - Parameter stamp: records a probe's send time (microseconds since the epoch) by its id.
    init(packetsPerSecond: Int, deadlines: HopDeadlines, stamp: @escaping @Sendable (UInt16, Int64) -> Void) {
        interval = .nanoseconds(1_000_000_000 / Int64(max(1, packetsPerSecond)))
        self.deadlines = deadlines
        self.stamp = stamp
        let thread = Thread { [weak self] in self?.loop() }
        thread.name = "smoketrace-native-sender"
        thread.start()
    }

    func enqueue(_ batch: Batch) {
        condition.lock()
        queue.append(batch)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && running { condition.wait() }
            guard running, let batch = queue.popFirst() else {
                let left = Array(queue)
                queue.removeAll()
                condition.unlock()
                for b in left { b.waiter.fail(ProbeError(.tracerFailed, "the prober was shut down")) }
                return
            }
            let now = ContinuousClock.now
            let earliest = now - burst
            let slot = next > earliest ? next : earliest
            next = slot + interval * batch.probes.count
            condition.unlock()
            let ahead = now.duration(to: slot)
            if ahead > .milliseconds(1) {
                let c = ahead.components
                usleep(UInt32(c.seconds * 1_000_000 + c.attoseconds / 1_000_000_000_000))
            }
            do {
                for p in batch.probes {
                    stamp(p.id, WallClock.nowMicros())
                    try batch.socket.send(p.bytes, to: batch.destination, hopLimit: p.ttl)
                }
                deadlines.schedule(batch.waiter, at: .now + batch.wait)
            } catch {
                batch.waiter.fail(error)
            }
        }
    }
}

import Foundation

/// Ends the waits of TTLs whose answers did not all come in time: one thread sleeping until the
/// earliest deadline, instead of a timer task per TTL per trace (most TTLs are answered long
/// before their deadline, and a cancelled timer still costs a wake-up).
///
/// `@unchecked Sendable`: `heap` and `running` are touched only under `condition`.
final class HopDeadlines: @unchecked Sendable {
    private let condition = NSCondition()
    private var heap: [(deadline: ContinuousClock.Instant, waiter: HopWaiter)] = []
    private var running = true

    init() {
        let thread = Thread { [weak self] in self?.loop() }
        thread.name = "smoketrace-native-deadlines"
        thread.start()
    }

    /// Expires `waiter` at `deadline` unless it finishes first.
    func schedule(_ waiter: HopWaiter, at deadline: ContinuousClock.Instant) {
        condition.lock()
        heap.append((deadline, waiter))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].deadline < heap[parent].deadline else { break }
            heap.swapAt(i, parent)
            i = parent
        }
        if i == 0 { condition.signal() }  // a new earliest deadline
        condition.unlock()
    }

    func stop() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while running {
            guard let first = heap.first else {
                condition.wait()
                continue
            }
            let now = ContinuousClock.now
            if first.deadline > now {
                let wait = now.duration(to: first.deadline)
                let c = wait.components
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(c.seconds) + Double(c.attoseconds) / 1e18))
                continue
            }
            let due = popFirst()
            condition.unlock()
            due.expire()
            condition.lock()
        }
        condition.unlock()
    }

    private func popFirst() -> HopWaiter {
        let top = heap[0].waiter
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && heap[l].deadline < heap[m].deadline { m = l }
                if r < heap.count && heap[r].deadline < heap[m].deadline { m = r }
                guard m != i else { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

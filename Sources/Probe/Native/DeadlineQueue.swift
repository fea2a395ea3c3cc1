import DequeModule

/// The deadlines of the batches in flight, earliest first, in O(1) per batch.
///
/// A batch's deadline is the time it was sent plus its trace's wait, and the loop sends in time
/// order, so the deadlines of batches with the same wait arrive already sorted: one FIFO per
/// distinct wait keeps them without the sifting (and the reference counting of every element
/// moved) that a heap costs. There are as many FIFOs as waits in use, which the targets file
/// keeps to a handful.
struct DeadlineQueue<Element> {
    private struct Lane {
        var wait: Duration
        var entries: Deque<(deadline: ContinuousClock.Instant, element: Element)>
    }

    private var lanes: [Lane] = []

    var isEmpty: Bool { lanes.allSatisfy { $0.entries.isEmpty } }

    /// Adds `element`, due `wait` after `now`. `now` must not run backwards between calls for
    /// the same wait (the loop's clock is monotonic).
    mutating func append(_ element: Element, wait: Duration, now: ContinuousClock.Instant) {
        let deadline = now + wait
        if let i = lanes.firstIndex(where: { $0.wait == wait }) {
            lanes[i].entries.append((deadline, element))
        } else {
            lanes.append(Lane(wait: wait, entries: [(deadline, element)]))
        }
    }

    /// The earliest deadline, if any.
    var earliest: ContinuousClock.Instant? {
        var best: ContinuousClock.Instant?
        for lane in lanes {
            if let d = lane.entries.first?.deadline, best.map({ d < $0 }) ?? true { best = d }
        }
        return best
    }

    /// Removes every element due at or before `now` and hands each to `body`, lane by lane
    /// (within a lane, earliest first).
    mutating func removeDue(at now: ContinuousClock.Instant, _ body: (Element) -> Void) {
        for i in lanes.indices {
            while let first = lanes[i].entries.first, first.deadline <= now {
                lanes[i].entries.removeFirst()
                body(first.element)
            }
        }
        // A wait no batch uses any more gives its lane up, so many waits over time cost nothing.
        lanes.removeAll { $0.entries.isEmpty }
    }

    /// Removes and returns everything, due or not.
    mutating func removeAll() -> [Element] {
        let all = lanes.flatMap { $0.entries.map(\.element) }
        lanes.removeAll()
        return all
    }
}

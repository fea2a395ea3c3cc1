import DequeModule
import HeapModule
import PathTSDB

/// When each target is traced. A pure state machine: the monitor tells it the time and which
/// traces finished, and it answers with what to start and what was missed. It never reads a
/// clock, so tests drive it with plain numbers.
///
/// - Starts are spread evenly: each target's slots are `offset + k·interval`, and the targets of
///   one interval have their offsets spread evenly over it, so the packet rate is flat. A reload
///   keeps a kept target's offset and puts new ones in the widest gaps.
/// - Two runs of one target never overlap: a slot that comes while the target still runs is
///   missed ("still running").
/// - At most `maxConcurrent` traces run, and the traces started in any second send at most
///   `packetsPerSecond` probes (each trace counted at `probesPerHop × (maxTTL − firstTTL + 1)`,
///   its most). A start held back by either waits, oldest first, until half its interval has
///   passed; after that the slot is missed ("no capacity"). `stop()` reports those still
///   waiting ("stopped").
/// - A slot the monitor only sees an interval or more after it was due is missed ("late").
///
/// Cost: the due slots are a heap keyed by time, so a slot costs O(log N) whatever the number of
/// targets, and `nextWakeupMicros` is the heap's top, or when capacity may free up.
package struct Schedule: Sendable {
    package enum MissReason: String, Sendable, CaseIterable {
        case stillRunning = "still running", noCapacity = "no capacity", late = "late", stopped = "stopped"
    }

    package enum Decision: Sendable, Equatable {
        case start(target: ScheduledTarget, slotMicros: Int64)
        case missed(name: String, slotMicros: Int64, reason: MissReason)
    }

    struct Entry: Sendable {
        var target: ScheduledTarget
        /// Where in its interval the target's slots fall.
        var offset: Int64
        var nextSlot: Int64
        var running = false
        /// The slot held back for capacity, if one is.
        var waitingSlot: Int64?
        /// Bumped when the target is replaced, so that its old heap items are skipped.
        var generation: UInt64
    }

    /// A target's next slot in the heap.
    struct Due: Comparable, Sendable {
        var slot: Int64
        var name: String
        var generation: UInt64
        static func < (a: Due, b: Due) -> Bool { (a.slot, a.name) < (b.slot, b.name) }
    }

    /// A slot held back for capacity.
    struct Held: Sendable {
        var name: String
        var slot: Int64
        var generation: UInt64
    }

    private var entries: [String: Entry] = [:]
    private var due = Heap<Due>()
    private var held = Deque<Held>()
    private var generation: UInt64 = 0
    private(set) var runningCount = 0
    package let maxConcurrent: Int
    package let packetsPerSecond: Int
    private var tokens: Double
    private var lastRefill: Int64

    package init(targets: [ScheduledTarget], nowMicros: Int64, maxConcurrent: Int = 64, packetsPerSecond: Int = 10_000) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.packetsPerSecond = max(1, packetsPerSecond)
        tokens = Double(self.packetsPerSecond)
        lastRefill = nowMicros
        reload(targets, nowMicros: nowMicros)
    }

    /// The names being scheduled.
    package var targetNames: [String] { entries.keys.sorted() }

    /// Replaces the target list: targets kept by name (with the same interval) keep their offset,
    /// slots and running run; new ones are placed in the widest gaps of their interval and get
    /// their first slot from `nowMicros` on; removed ones are dropped (a run in flight just
    /// finishes, and a held slot of theirs is forgotten).
    package mutating func reload(_ targets: [ScheduledTarget], nowMicros: Int64) {
        var next = [String: Entry](minimumCapacity: targets.count)
        var fresh = [Int64: [ScheduledTarget]]()
        for t in targets where next[t.name] == nil {
            if var e = entries[t.name], e.target.intervalMicros == t.intervalMicros {
                e.target = t
                next[t.name] = e
            } else {
                fresh[t.intervalMicros, default: []].append(t)
                // A placeholder keeps the name taken; the entry is made below.
                next[t.name] = Entry(target: t, offset: 0, nextSlot: 0, generation: 0)
            }
        }
        for (interval, list) in fresh {
            let kept = next.values.filter { $0.target.intervalMicros == interval && entries[$0.target.name]?.target.intervalMicros == interval }
                .map(\.offset)
            let ordered = list.sorted { (Schedule.hash($0.name), $0.name) < (Schedule.hash($1.name), $1.name) }
            let offsets = Schedule.spread(count: ordered.count, over: interval, around: kept)
            for (t, offset) in zip(ordered, offsets) {
                generation += 1
                let base = TimeArithmetic.floorMultiple(nowMicros, of: interval)
                var slot = base + offset
                if slot < nowMicros { slot += interval }
                next[t.name] = Entry(target: t, offset: offset, nextSlot: slot, running: entries[t.name]?.running ?? false,
                                     generation: generation)
                due.insert(Due(slot: slot, name: t.name, generation: generation))
            }
        }
        runningCount = next.values.filter(\.running).count
        entries = next
    }

    /// `count` offsets in `0..<interval`: evenly spaced when `existing` is empty, else each in the
    /// middle of the widest gap left between the existing offsets and those placed before it.
    static func spread(count: Int, over interval: Int64, around existing: [Int64]) -> [Int64] {
        guard count > 0 else { return [] }
        guard !existing.isEmpty else {
            return (0..<count).map { Int64((Double($0) * Double(interval) / Double(count)).rounded(.down)) }
        }
        struct Gap: Comparable {
            var start: Int64
            var length: Int64
            // The widest first; of two as wide, the earlier.
            static func < (a: Gap, b: Gap) -> Bool { (a.length, -a.start) < (b.length, -b.start) }
        }
        let sorted = existing.sorted()
        var gaps = Heap<Gap>()
        for (i, o) in sorted.enumerated() {
            let nextStart = i + 1 < sorted.count ? sorted[i + 1] : sorted[0] + interval
            gaps.insert(Gap(start: o, length: nextStart - o))
        }
        var out = [Int64]()
        out.reserveCapacity(count)
        for _ in 0..<count {
            guard let g = gaps.popMax() else { break }
            let half = g.length / 2
            out.append((g.start + half) % interval)
            gaps.insert(Gap(start: g.start, length: half))
            gaps.insert(Gap(start: g.start + half, length: g.length - half))
        }
        return out
    }

    /// Probes one trace of `t` may send at most.
    static func cost(_ t: ScheduledTarget) -> Double {
        Double(t.settings.probesPerHop * (t.settings.maxTTL - t.settings.firstTTL + 1))
    }

    private func canStart(_ t: ScheduledTarget) -> Bool {
        runningCount < maxConcurrent && tokens >= min(Schedule.cost(t), Double(packetsPerSecond))
    }

    private mutating func start(_ e: inout Entry, slot: Int64, into out: inout [Decision]) {
        tokens -= Schedule.cost(e.target)
        e.running = true
        runningCount += 1
        out.append(.start(target: e.target, slotMicros: slot))
    }

    /// What to do at `nowMicros`.
    package mutating func advance(to nowMicros: Int64) -> [Decision] {
        tokens = min(Double(packetsPerSecond), tokens + Double(max(0, nowMicros - lastRefill)) / 1e6 * Double(packetsPerSecond))
        lastRefill = max(lastRefill, nowMicros)
        var out = [Decision]()
        // Held slots first: those past their deadline are missed, then the oldest start while
        // there is capacity (one that cannot start keeps those behind it waiting).
        if !held.isEmpty {
            var kept = Deque<Held>()
            for h in held {
                guard var e = entries[h.name], e.generation == h.generation, e.waitingSlot == h.slot else { continue }
                if nowMicros - h.slot >= e.target.intervalMicros / 2 {
                    out.append(.missed(name: h.name, slotMicros: h.slot, reason: .noCapacity))
                    e.waitingSlot = nil
                    entries[h.name] = e
                } else {
                    kept.append(h)
                }
            }
            held = kept
            while let h = held.first, var e = entries[h.name], canStart(e.target) {
                start(&e, slot: h.slot, into: &out)
                e.waitingSlot = nil
                entries[h.name] = e
                held.removeFirst()
            }
        }
        // Then the slots that came due, in time order.
        while let top = due.min, top.slot <= nowMicros {
            due.removeMin()
            guard var e = entries[top.name], e.generation == top.generation, e.nextSlot == top.slot else { continue }
            let slot = top.slot, interval = e.target.intervalMicros
            if let waiting = e.waitingSlot {
                // Still held when its next slot came (the monitor stalled): that one is lost.
                out.append(.missed(name: top.name, slotMicros: waiting, reason: .noCapacity))
                e.waitingSlot = nil
            }
            if e.running {
                out.append(.missed(name: top.name, slotMicros: slot, reason: .stillRunning))
            } else if nowMicros - slot >= interval {
                out.append(.missed(name: top.name, slotMicros: slot, reason: .late))
            } else if held.isEmpty && canStart(e.target) {
                start(&e, slot: slot, into: &out)
            } else if nowMicros - slot < interval / 2 {
                e.waitingSlot = slot
                held.append(Held(name: top.name, slot: slot, generation: e.generation))
            } else {
                out.append(.missed(name: top.name, slotMicros: slot, reason: .noCapacity))
            }
            e.nextSlot = slot + interval
            entries[top.name] = e
            due.insert(Due(slot: e.nextSlot, name: top.name, generation: e.generation))
        }
        return out
    }

    /// A trace of `name` ended (whatever its outcome).
    package mutating func finished(_ name: String) {
        guard var e = entries[name], e.running else { return }
        e.running = false
        entries[name] = e
        runningCount -= 1
    }

    /// The slots still held for capacity, reported as missed ("stopped"): the monitor is
    /// stopping and will not start them.
    package mutating func stop() -> [Decision] {
        var out = [Decision]()
        for h in held {
            guard var e = entries[h.name], e.generation == h.generation, e.waitingSlot == h.slot else { continue }
            out.append(.missed(name: h.name, slotMicros: h.slot, reason: .stopped))
            e.waitingSlot = nil
            entries[h.name] = e
        }
        held.removeAll()
        return out
    }

    /// The next slot of the target `name`, nil if it is not scheduled.
    func nextSlot(of name: String) -> Int64? { entries[name]?.nextSlot }

    /// Slots held back for capacity now.
    package var heldCount: Int { held.count }

    /// The earliest time `advance` can decide something without a trace finishing first: the
    /// next due slot, a held slot's deadline, or (when only the packet budget holds the oldest
    /// held slot back) the moment the budget has refilled enough. Nil with nothing scheduled.
    package var nextWakeupMicros: Int64? {
        var next = due.min?.slot
        func consider(_ t: Int64) { next = min(next ?? t, t) }
        for h in held {
            guard let e = entries[h.name], e.generation == h.generation, e.waitingSlot == h.slot else { continue }
            consider(h.slot + e.target.intervalMicros / 2)
        }
        if let first = held.first, let e = entries[first.name], runningCount < maxConcurrent {
            let need = min(Schedule.cost(e.target), Double(packetsPerSecond)) - tokens
            consider(lastRefill + max(1, Int64((need / Double(packetsPerSecond) * 1e6).rounded(.up))))
        }
        return next
    }

    /// FNV-1a: a fixed order of names, the same on every start of the monitor.
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

extension Schedule.MissReason {
    /// The reason as the store keeps it.
    var stored: MissedSlot.Reason {
        switch self {
        case .stillRunning: .stillRunning
        case .noCapacity: .noCapacity
        case .late: .late
        case .stopped: .stopped
        }
    }
}

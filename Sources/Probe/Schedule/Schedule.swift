import PathTSDB

/// When each target is traced. A pure state machine: the monitor tells it the time and which
/// traces finished, and it answers with what to start and what was missed. It never reads a
/// clock, so tests drive it with plain numbers.
///
/// - Starts are jittered: each target's slots are `offset + k·interval`, with a fixed offset per
///   name inside its interval, so targets with one interval do not all start at once.
/// - Two runs of one target never overlap: a slot that comes while the target still runs is
///   missed ("still running").
/// - At most `maxConcurrent` traces run, and the traces started in any second send at most
///   `packetsPerSecond` probes (each trace counted at `probesPerHop × (maxTTL − firstTTL + 1)`,
///   its most). A start held back by either waits until half its interval has passed; after that
///   the slot is missed ("no capacity").
/// - A slot the monitor only sees an interval or more after it was due is missed ("late").
public struct Schedule: Sendable {
    public enum MissReason: String, Sendable { case stillRunning = "still running", noCapacity = "no capacity", late = "late" }

    public enum Decision: Sendable, Equatable {
        case start(target: ScheduledTarget, slotMicros: Int64)
        case missed(name: String, slotMicros: Int64, reason: MissReason)
    }

    struct Entry: Sendable {
        var target: ScheduledTarget
        var nextSlot: Int64
        var running = false
    }

    private var entries: [String: Entry] = [:]
    private(set) var runningCount = 0
    public let maxConcurrent: Int
    public let packetsPerSecond: Int
    private var tokens: Double
    private var lastRefill: Int64

    public init(targets: [ScheduledTarget], nowMicros: Int64, maxConcurrent: Int = 64, packetsPerSecond: Int = 10_000) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.packetsPerSecond = max(1, packetsPerSecond)
        tokens = Double(self.packetsPerSecond)
        lastRefill = nowMicros
        reload(targets, nowMicros: nowMicros)
    }

    /// The names being scheduled.
    public var targetNames: [String] { entries.keys.sorted() }

    /// Replaces the target list: targets kept by name keep their slots (and their running run);
    /// new ones get their first slot; removed ones are dropped (a run in flight just finishes).
    public mutating func reload(_ targets: [ScheduledTarget], nowMicros: Int64) {
        var next = [String: Entry]()
        for t in targets {
            if var e = entries[t.name], e.target.intervalMicros == t.intervalMicros {
                e.target = t
                next[t.name] = e
            } else {
                let offset = Int64(Schedule.hash(t.name) % UInt64(t.intervalMicros))
                let base = nowMicros - nowMicros % t.intervalMicros
                var slot = base + offset
                if slot < nowMicros { slot += t.intervalMicros }
                next[t.name] = Entry(target: t, nextSlot: slot, running: entries[t.name]?.running ?? false)
            }
        }
        runningCount = next.values.filter(\.running).count
        entries = next
    }

    /// Probes one trace of `t` may send at most.
    static func cost(_ t: ScheduledTarget) -> Double {
        Double(t.settings.probesPerHop * (t.settings.maxTTL - t.settings.firstTTL + 1))
    }

    /// What to do at `nowMicros`.
    public mutating func advance(to nowMicros: Int64) -> [Decision] {
        tokens = min(Double(packetsPerSecond), tokens + Double(nowMicros - lastRefill) / 1e6 * Double(packetsPerSecond))
        lastRefill = max(lastRefill, nowMicros)
        var out = [Decision]()
        for name in entries.keys.sorted(by: { (entries[$0]?.nextSlot ?? 0, $0) < (entries[$1]?.nextSlot ?? 0, $1) }) {
            guard var e = entries[name] else { continue }
            while e.nextSlot <= nowMicros {
                let slot = e.nextSlot
                let interval = e.target.intervalMicros
                if e.running {
                    out.append(.missed(name: name, slotMicros: slot, reason: .stillRunning))
                } else if nowMicros - slot >= interval {
                    out.append(.missed(name: name, slotMicros: slot, reason: .late))
                } else if runningCount >= maxConcurrent || tokens < min(Schedule.cost(e.target), Double(packetsPerSecond)) {
                    if nowMicros - slot < interval / 2 { break }  // may still start in time
                    out.append(.missed(name: name, slotMicros: slot, reason: .noCapacity))
                } else {
                    tokens -= Schedule.cost(e.target)
                    e.running = true
                    runningCount += 1
                    out.append(.start(target: e.target, slotMicros: slot))
                }
                e.nextSlot += interval
            }
            entries[name] = e
        }
        return out
    }

    /// A trace of `name` ended (whatever its outcome).
    public mutating func finished(_ name: String) {
        guard var e = entries[name], e.running else { return }
        e.running = false
        entries[name] = e
        runningCount -= 1
    }

    /// The next slot of the target `name`, nil if it is not scheduled.
    func nextSlot(of name: String) -> Int64? { entries[name]?.nextSlot }

    /// The earliest time something is due.
    public var nextWakeupMicros: Int64? { entries.values.map(\.nextSlot).min() }

    /// FNV-1a: a fixed offset per name, the same on every start of the monitor.
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
        }
    }
}

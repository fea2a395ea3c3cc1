import PathTSDB

/// What one hop of one run shows: probes sent and answered, the RTTs, who answered.
struct HopSample {
    /// Probes lost of those sent; nil when none was sent.
    var lossFraction: Double?
    var rtts: ArraySlice<UInt32>
    var addresses: ArraySlice<AddressID>
}

/// The figures of one run that rules read: its path, whether and how fast it got through, and
/// each hop's replies.
///
/// A round summarises the newest run of every target, so the hops are held flat: one array of
/// per-hop counts and two of RTTs and addresses that the hops index into, not two arrays a hop.
struct RunSummary: Sendable {
    var startMicros: Int64
    var path: PathID
    var interrupted: Bool
    var reached: Bool
    var hopCount: Int
    /// Destination probes (end to end, as `EndToEnd` picks them).
    var destinationSent = 0
    var destinationLost = 0
    var destinationRTTs: [UInt32] = []
    /// The TTL the destination probes were sent at (0 when unknown). Probes at later TTLs went
    /// to the destination as well, so a hop's loss is judged only up to this TTL.
    var destinationTTL = 0
    /// By TTL - 1: probes sent and answered, and where the hop's RTTs and addresses end.
    fileprivate var hopRecords: [HopRecord] = []
    fileprivate var rtts: [UInt32] = []
    fileprivate var addresses: [AddressID] = []

    init(startMicros: Int64, path: PathID, interrupted: Bool, reached: Bool, hopCount: Int) {
        self.startMicros = startMicros
        self.path = path
        self.interrupted = interrupted
        self.reached = reached
        self.hopCount = hopCount
    }

    /// The run's hops by TTL - 1, up to the highest TTL probed; none once `dropHops()` was called.
    var hops: Hops { Hops(records: hopRecords, rtts: rtts, addresses: addresses) }

    /// Whether the run still holds its hops.
    var holdsHops: Bool { !hopRecords.isEmpty }

    /// Keeps only what the run's end-to-end figures need (destination probes, hop count, path):
    /// a cached run older than every rule's per-hop window is read for those alone.
    mutating func dropHops() {
        hopRecords = []
        rtts = []
        addresses = []
    }

    /// Hops probed: the highest TTL.
    var hopTotal: Int { hopRecords.count }

    /// The RTTs at `ttl`, none when the run did not probe it.
    func rtts(atTTL ttl: Int) -> ArraySlice<UInt32> {
        guard ttl >= 1, ttl <= hopRecords.count else { return [] }
        return rtts[(ttl == 1 ? 0 : Int(hopRecords[ttl - 2].rttEnd))..<Int(hopRecords[ttl - 1].rttEnd)]
    }

    var destinationLossPercent: Double? {
        destinationSent == 0 ? nil : 100 * Double(destinationLost) / Double(destinationSent)
    }

    var destinationMedianMillis: Double? { Median.of(destinationRTTs).map { $0 / 1000 } }

    func medianMillis(atTTL ttl: Int) -> Double? {
        Median.of(rtts(atTTL: ttl)).map { $0 / 1000 }
    }

    /// The loss at `ttl` that every later hop shares: the least loss from this hop to the last
    /// one probed. A router that rate-limits its replies while later hops answer loses nothing.
    /// TTLs past the destination's are the destination again (traceroute sends on when every
    /// probe at its TTL was lost): they have no loss of their own.
    func sharedLossFraction(atTTL ttl: Int) -> Double? {
        let end = destinationTTL == 0 ? hopRecords.count : min(hopRecords.count, destinationTTL)
        guard ttl >= 1, ttl <= end else { return nil }
        var least: Double?
        for r in hopRecords[(ttl - 1)..<end] {
            guard let f = r.lossFraction else { continue }
            least = min(least ?? f, f)
        }
        return least
    }

    /// Summaries of a target's runs, oldest first; `table` holds one target's runs in time order.
    static func summaries(of table: RunTable, catalog: Catalog) -> [RunSummary] {
        var tracker = EndToEnd()
        return summaries(of: table, catalog: catalog, tracker: &tracker)
    }

    /// The same, going on from the runs `tracker` has seen (a target's cached history).
    static func summaries(of table: RunTable, catalog: Catalog, tracker: inout EndToEnd) -> [RunSummary] {
        var out = [RunSummary]()
        out.reserveCapacity(table.runs.count)
        for run in table.runs {
            let probes = table.probes[run.probeRange]
            var s = RunSummary(startMicros: run.startMicros, path: run.path, interrupted: run.interrupted, reached: run.reached,
                               hopCount: catalog.hopCount(of: run.path) ?? 0)
            s.summarizeHops(probes)
            tracker.forEachProbe(destination: run.destination, probes: probes, interrupted: run.interrupted) { reached, rtt in
                s.destinationSent += 1
                if reached {
                    if rtt != ProbeReply.untimed { s.destinationRTTs.append(rtt) }
                } else {
                    s.destinationLost += 1
                }
            }
            s.destinationTTL = tracker.destinationTTL
            out.append(s)
        }
        return out
    }

    /// Fills the hops from a run's probes, which a stored run holds in TTL order.
    private mutating func summarizeHops(_ probes: ArraySlice<ProbeRecord>) {
        var ordered = probes
        if zip(probes, probes.dropFirst()).contains(where: { $0.ttl > $1.ttl }) {
            ordered = ArraySlice(probes.sorted { $0.ttl < $1.ttl })
        }
        let top = Int(ordered.last?.ttl ?? 0)
        hopRecords = []
        hopRecords.reserveCapacity(top)
        rtts.reserveCapacity(ordered.count)
        var i = ordered.startIndex
        while i < ordered.endIndex && ordered[i].ttl == 0 { i += 1 }
        for ttl in stride(from: 1, through: top, by: 1) {
            var record = HopRecord()
            let firstAddress = addresses.count
            while i < ordered.endIndex && Int(ordered[i].ttl) == ttl {
                let p = ordered[i]
                record.sent += 1
                if !p.isLoss {
                    record.answered += 1
                    if !addresses[firstAddress...].contains(p.address) { addresses.append(p.address) }
                    if p.isTimed { rtts.append(p.rttMicros) }
                }
                i += 1
            }
            record.rttEnd = UInt32(rtts.count)
            record.addressEnd = UInt32(addresses.count)
            hopRecords.append(record)
        }
    }
}

/// One hop's counts in a `RunSummary`, and where its RTTs and addresses end in the run's arrays.
///
/// 32-bit counts: a monitor with 100,000 targets caches a dozen runs of each, hop by hop.
struct HopRecord: Sendable {
    var sent: UInt32 = 0
    var answered: UInt32 = 0
    var rttEnd: UInt32 = 0
    var addressEnd: UInt32 = 0

    var lossFraction: Double? { sent == 0 ? nil : Double(sent - answered) / Double(sent) }
}

/// A run's hops by TTL - 1, read from its flat arrays.
struct Hops: RandomAccessCollection {
    let records: [HopRecord]
    let rtts: [UInt32]
    let addresses: [AddressID]

    var startIndex: Int { 0 }
    var endIndex: Int { records.count }

    subscript(i: Int) -> HopSample {
        let r = records[i]
        let rttStart = i == 0 ? 0 : Int(records[i - 1].rttEnd), addressStart = i == 0 ? 0 : Int(records[i - 1].addressEnd)
        return HopSample(lossFraction: r.lossFraction, rtts: rtts[rttStart..<Int(r.rttEnd)],
                         addresses: addresses[addressStart..<Int(r.addressEnd)])
    }
}

/// Medians and percentiles of small samples.
enum Median {
    /// The median of `values`, which it sorts in place (a caller's scratch buffer).
    static func sorting(_ values: inout [UInt32]) -> Double? {
        guard !values.isEmpty else { return nil }
        values.sort()
        return values.withUnsafeBufferPointer(middle)
    }

    /// The median of a few values (a hop's probes), sorted in a temporary buffer that a small
    /// count keeps on the stack: a round asks this of every target's newest run.
    static func of(_ values: ArraySlice<UInt32>) -> Double? {
        guard !values.isEmpty else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: values.count) { buffer in
            var sorted = buffer  // the same memory: `sort()` is declared mutating on the pointer
            _ = sorted.initialize(fromContentsOf: values)
            sorted.sort()
            return middle(UnsafeBufferPointer(sorted))
        }
    }

    static func of(_ values: [UInt32]) -> Double? { of(values[...]) }

    /// The middle of sorted values, interpolated between the two around it.
    private static func middle(_ sorted: UnsafeBufferPointer<UInt32>) -> Double {
        let mid = Double(sorted.count - 1) / 2
        let lo = Int(mid), hi = min(lo + 1, sorted.count - 1)
        return Double(sorted[lo]) + (Double(sorted[hi]) - Double(sorted[lo])) * (mid - Double(lo))
    }

    static func of(_ values: [Double]) -> Double? { percentile(values, 50) }

    /// The nearest-rank percentile, interpolated between the two ranks around it.
    static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = p / 100 * Double(sorted.count - 1)
        let lo = Int(rank), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - Double(lo))
    }
}

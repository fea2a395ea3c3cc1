import PathTSDB

/// What one hop of one run shows: probes sent and answered, the RTTs, who answered.
struct HopSample: Sendable {
    var sent = 0
    var answered = 0
    var rtts: [UInt32] = []
    var addresses: [AddressID] = []

    var lossFraction: Double? { sent == 0 ? nil : Double(sent - answered) / Double(sent) }
}

/// The figures of one run that rules read: its path, whether and how fast it got through, and
/// each hop's replies.
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
    /// By TTL - 1.
    var hops: [HopSample] = []

    var destinationLossPercent: Double? {
        destinationSent == 0 ? nil : 100 * Double(destinationLost) / Double(destinationSent)
    }

    var destinationMedianMillis: Double? { Median.of(destinationRTTs).map { $0 / 1000 } }

    func medianMillis(atTTL ttl: Int) -> Double? {
        guard ttl >= 1, ttl <= hops.count else { return nil }
        return Median.of(hops[ttl - 1].rtts).map { $0 / 1000 }
    }

    /// The loss at `ttl` that every later hop shares: the least loss from this hop to the last
    /// one probed. A router that rate-limits its replies while later hops answer loses nothing.
    func sharedLossFraction(atTTL ttl: Int) -> Double? {
        guard ttl >= 1, ttl <= hops.count else { return nil }
        var least: Double?
        for h in hops[(ttl - 1)...] {
            guard let f = h.lossFraction else { continue }
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
                               hopCount: catalog.path(of: run.path)?.hopCount ?? 0)
            let top = Int(probes.map(\.ttl).max() ?? 0)
            s.hops = Array(repeating: HopSample(), count: top)
            for p in probes where p.ttl >= 1 {
                var h = s.hops[Int(p.ttl) - 1]
                h.sent += 1
                if !p.isLoss {
                    h.answered += 1
                    if !h.addresses.contains(p.address) { h.addresses.append(p.address) }
                    if p.isTimed { h.rtts.append(p.rttMicros) }
                }
                s.hops[Int(p.ttl) - 1] = h
            }
            tracker.forEachProbe(destination: run.destination, probes: probes, interrupted: run.interrupted) { reached, rtt in
                s.destinationSent += 1
                if reached {
                    if rtt != ProbeReply.untimed { s.destinationRTTs.append(rtt) }
                } else {
                    s.destinationLost += 1
                }
            }
            out.append(s)
        }
        return out
    }
}

/// Medians and percentiles of small samples.
enum Median {
    static func of(_ values: [UInt32]) -> Double? {
        guard !values.isEmpty else { return nil }
        // Sorted as integers: the same answer as through `percentile`, without a copy to Double.
        let sorted = values.sorted()
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

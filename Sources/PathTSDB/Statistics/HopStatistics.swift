/// Per-hop statistics of one target over time buckets: the store's own answer to "how did each
/// hop behave", computed exactly from raw runs or, within the sketch's error, from rollups.
public struct HopStatisticsRow: Sendable, Equatable {
    /// Start of the time bucket, microseconds since the Unix epoch.
    public var bucketMicros: Int64
    /// The hop.
    public var ttl: UInt8
    /// Probes sent at this hop in the bucket.
    public var sent: UInt32
    /// Of those, probes nothing answered.
    public var lost: UInt32
    /// The smallest RTT; nil when no probe was answered with a time.
    public var minMicros: UInt32?
    /// The largest RTT; nil when no probe was answered with a time.
    public var maxMicros: UInt32?
    /// The mean RTT; nil when no probe was answered with a time.
    public var meanMicros: Double?
    /// The requested quantiles, in the order asked for; nil where nothing answered.
    public var quantiles: [Double?]

    /// `lost` over `sent`; 0 when nothing was sent.
    public var lossRatio: Double { sent == 0 ? 0 : Double(lost) / Double(sent) }
}

/// Where a statistics query reads from.
public enum StatisticsSource: String, Sendable, CaseIterable {
    /// Raw runs: exact.
    case raw
    /// Rollups: within `QuantileSketch.relativeAccuracy`; needs a step that is a whole number of
    /// a tier's buckets.
    case rollup
    /// Rollups where the step allows, raw otherwise.
    case auto
}

extension StoreSnapshot {
    /// p-quantiles, loss and extremes per hop of `target`, in buckets of `stepMicros` from
    /// `range.lowerBound`. Quantiles pool every probe of a hop in the bucket, ranked as
    /// `⌈q·n⌉` (1-based).
    ///
    /// With `path`, only the runs that took that path count, so that the branches of an ECMP
    /// pair are not blended into one series; rollups are per hop, so this reads raw data.
    public func hopStatistics(target: TargetID, range: Range<Int64>, stepMicros: Int64, quantiles: [Double],
                              source requested: StatisticsSource = .auto, path: PathID? = nil) throws(StorageError) -> (rows: [HopStatisticsRow], usedRollups: Bool, problems: [StorageError]) {
        guard stepMicros > 0 else { throw StorageError(.invalidArgument, "step must be positive") }
        if path != nil && requested == .rollup {
            throw StorageError(.invalidArgument, "rollups are per hop, not per path: statistics of one path come from raw data")
        }
        let source = path != nil ? .raw : requested
        let tier = RollupTier.allCases.reversed().first {
            RollupTier.storedWithSegments.contains($0) && stepMicros % $0.micros == 0 && range.lowerBound % $0.micros == 0
        }
        if source == .rollup && tier == nil {
            throw StorageError(.invalidArgument, "no rollup tier divides a step of \(stepMicros) µs aligned at \(range.lowerBound)")
        }
        if let tier, source != .raw {
            let (rows, problems) = rollups(of: target, tier: tier, in: range)
            var merged = [Int64: [UInt8: RollupRow]]()
            for r in rows {
                let b = bucketStart(of: r.bucketMicros, from: range.lowerBound, step: stepMicros)
                if merged[b]?[r.ttl] != nil { merged[b]?[r.ttl]?.merge(r) } else { merged[b, default: [:]][r.ttl] = r }
            }
            var out = [HopStatisticsRow]()
            for b in merged.keys.sorted() {
                for (ttl, r) in merged[b, default: [:]].sorted(by: { $0.key < $1.key }) {
                    out.append(HopStatisticsRow(
                        bucketMicros: b, ttl: ttl, sent: r.sent, lost: r.lost,
                        minMicros: r.timed > 0 ? r.minMicros : nil, maxMicros: r.timed > 0 ? r.maxMicros : nil,
                        meanMicros: r.meanMicros, quantiles: quantiles.map { r.sketch.quantile($0) }))
                }
            }
            return (out, true, problems)
        }
        let (table, problems) = runs(of: target, in: range, fields: .timing)
        // Runs come in start order, so buckets arrive one after the other: one accumulator per
        // TTL for the current bucket, emitted when the next bucket starts.
        var out = [HopStatisticsRow]()
        var sent = [UInt32](repeating: 0, count: 256)
        var lost = [UInt32](repeating: 0, count: 256)
        var values = [[UInt32]](repeating: [], count: 256)
        var used = [Int]()
        var bucket: Int64?
        func flush() {
            guard let b = bucket else { return }
            for ttl in used.sorted() {
                let n = values[ttl].count
                var lo = UInt32.max, hi: UInt32 = 0, sum: UInt64 = 0
                for v in values[ttl] {
                    lo = min(lo, v)
                    hi = max(hi, v)
                    sum += UInt64(v)
                }
                // Ranks ⌈q·n⌉ (1-based), by selection.
                let picked = OrderStatistics.select(&values[ttl], ranks: quantiles.map { Int((($0 * Double(n)).rounded(.up))) - 1 })
                out.append(HopStatisticsRow(
                    bucketMicros: b, ttl: UInt8(ttl), sent: sent[ttl], lost: lost[ttl],
                    minMicros: n == 0 ? nil : lo, maxMicros: n == 0 ? nil : hi,
                    meanMicros: n == 0 ? nil : Double(sum) / Double(n),
                    quantiles: n == 0 ? quantiles.map { _ in nil } : picked.map { Double($0) }))
                sent[ttl] = 0
                lost[ttl] = 0
                values[ttl].removeAll(keepingCapacity: true)
            }
            used.removeAll(keepingCapacity: true)
        }
        for run in table.runs where path == nil || run.path == path {
            let b = bucketStart(of: run.startMicros, from: range.lowerBound, step: stepMicros)
            if b != bucket {
                flush()
                bucket = b
            }
            for p in table.probes[run.probeRange] {
                let t = Int(p.ttl)
                if sent[t] == 0 { used.append(t) }
                sent[t] += 1
                if p.isLoss { lost[t] += 1 } else if p.isTimed { values[t].append(p.rttMicros) }
            }
        }
        flush()
        return (out, false, problems)
    }
}

/// The start of the bucket of `time` in buckets of `step` counted from `origin`, computed in 128
/// bits so that any range a caller passes (`Int64.min` included) cannot overflow.
@inline(__always) func bucketStart(of time: Int64, from origin: Int64, step: Int64) -> Int64 {
    let o = Int128(origin), d = Int128(time) - o, st = Int128(step)
    let q = d >= 0 ? d / st : (d - st + 1) / st
    return Int64(clamping: o + q * st)
}

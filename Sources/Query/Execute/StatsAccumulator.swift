import PathTSDB

/// What a stats group gathers from raw probes: exact counts, extremes, the sum and the sum of
/// squares of the RTTs (integers, so that groups merge exactly and the variance needs no
/// division per value), every RTT when a quantile is asked for, and successive differences per
/// hop series for jitter.
struct RawAccumulator {
    var sent: UInt64 = 0
    var lost: UInt64 = 0
    var minMicros: UInt32 = .max
    var maxMicros: UInt32 = 0
    var sumMicros: UInt128 = 0
    var sumSquares: UInt128 = 0
    /// Replies with a time: what the extremes, sums and values hold.
    var answered: Int = 0
    /// Replies without one (a report's).
    var untimed: Int = 0
    var values: [UInt32] = []
    var jitterSum: Double = 0
    var jitterCount: Int = 0
    /// The runs' destination probes (`EndToEnd`), for a group that pools hops.
    var endSent: UInt64 = 0
    var endLost: UInt64 = 0
    /// The last RTT of each TTL's series in the current target, for jitter.
    var lastRTT: [UInt8: UInt32] = [:]
    var lastTarget: Int32 = -1

    @inline(__always)
    mutating func add(_ p: ProbeRecord, target: Int32, keepValues: Bool, jitter: Bool) {
        sent += 1
        guard !p.isLoss else {
            lost += 1
            return
        }
        let v = p.rttMicros
        guard v != ProbeReply.untimed else {
            untimed += 1
            return
        }
        minMicros = Swift.min(minMicros, v)
        maxMicros = Swift.max(maxMicros, v)
        sumMicros &+= UInt128(v)
        sumSquares &+= UInt128(UInt64(v) &* UInt64(v))
        answered += 1
        if keepValues { values.append(v) }
        if jitter {
            if target != lastTarget {
                lastRTT.removeAll(keepingCapacity: true)
                lastTarget = target
            }
            if let prev = lastRTT[p.ttl] {
                jitterSum += abs(Double(v) - Double(prev))
                jitterCount += 1
            }
            lastRTT[p.ttl] = v
        }
    }

    /// Empties the accumulator for another group, keeping the room its values took.
    mutating func reset() {
        var values = self.values
        values.removeAll(keepingCapacity: true)
        self = RawAccumulator()
        self.values = values
    }

    /// The population variance of the answered RTTs in µs²: n·Σv² − (Σv)² is computed exactly
    /// when it fits 128 bits (any group of fewer than 2^32 values; then (Σv)² ≤ n·Σv² fits
    /// too), then divided once.
    var variance: Double {
        guard answered > 0 else { return 0 }
        let (scaled, overflow) = sumSquares.multipliedReportingOverflow(by: UInt128(answered))
        if !overflow {
            return Double(scaled - sumMicros * sumMicros) / (Double(answered) * Double(answered))
        }
        let mean = Double(sumMicros) / Double(answered)
        return Swift.max(0, Double(sumSquares) / Double(answered) - mean * mean)
    }

    /// Adds another accumulator of the same group (a bucket of another target, when targets
    /// are pooled); the sums add exactly.
    mutating func merge(_ o: RawAccumulator) {
        guard o.sent > 0 else { return }
        guard sent > 0 else {
            self = o
            return
        }
        sent += o.sent
        lost += o.lost
        minMicros = Swift.min(minMicros, o.minMicros)
        maxMicros = Swift.max(maxMicros, o.maxMicros)
        sumMicros &+= o.sumMicros
        sumSquares &+= o.sumSquares
        answered += o.answered
        untimed += o.untimed
        values += o.values
        jitterSum += o.jitterSum
        jitterCount += o.jitterCount
        endSent += o.endSent
        endLost += o.endLost
    }

    /// The cells of `aggregates`, RTTs in milliseconds. Quantiles are exact: the value of rank
    /// ⌈q·n⌉ (1-based) among the answered probes.
    mutating func cells(_ aggregates: [Aggregate]) -> [ResultValue] {
        let quantiles = aggregates.compactMap { if case .quantile(let q) = $0 { q } else { nil } }
        let n = values.count
        let picked = quantiles.isEmpty || n == 0 ? [] :
            OrderStatistics.select(&values, ranks: quantiles.map { Swift.max(0, Int(($0 * Double(n)).rounded(.up)) - 1) })
        var qi = 0
        return aggregates.map { a -> ResultValue in
            switch a {
            case .count: return .integer(Int64(sent))
            case .answered: return .integer(Int64(answered + untimed))
            case .lost: return .integer(Int64(lost))
            // Loss, reply loss and silence are finished across the groups (`LossFigures`).
            case .loss, .replyLoss: return sent == 0 ? .null : .number(Double(lost) / Double(sent) * 100)
            case .silent: return .integer(0)
            case .min: return answered == 0 ? .null : .number(Double(minMicros) / 1000)
            case .max: return answered == 0 ? .null : .number(Double(maxMicros) / 1000)
            case .mean: return answered == 0 ? .null : .number(Double(sumMicros) / Double(answered) / 1000)
            case .stddev: return answered == 0 ? .null : .number(variance.squareRoot() / 1000)
            case .jitter: return jitterCount == 0 ? .null : .number(jitterSum / Double(jitterCount) / 1000)
            case .quantile:
                defer { qi += 1 }
                return n == 0 ? .null : .number(Double(picked[qi]) / 1000)
            }
        }
    }
}

extension RollupRow {
    /// The cells of `aggregates` from a merged rollup row; quantiles within the sketch's error.
    func cells(_ aggregates: [Aggregate]) -> [ResultValue] {
        aggregates.map { a -> ResultValue in
            switch a {
            case .count: .integer(Int64(sent))
            case .answered: .integer(Int64(answered))
            case .lost: .integer(Int64(lost))
            case .loss, .replyLoss: sent == 0 ? .null : .number(Double(lost) / Double(sent) * 100)
            case .silent: .integer(0)
            case .min: timed == 0 ? .null : .number(Double(minMicros) / 1000)
            case .max: timed == 0 ? .null : .number(Double(maxMicros) / 1000)
            case .mean: meanMicros.map { .number($0 / 1000) } ?? .null
            case .quantile(let q): sketch.quantile(q).map { .number($0 / 1000) } ?? .null
            case .stddev, .jitter: .null  // the planner never reads rollups for these
            }
        }
    }
}

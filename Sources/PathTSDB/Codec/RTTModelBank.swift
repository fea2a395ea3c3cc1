/// The state of every RTT series of one chunk: one 32-byte record per series in memory this
/// object owns, so that the per-sample path reads one cache line with no copy-on-write checks.
/// Encoder and decoder both drive one of these, which keeps their models identical by
/// construction.
///
/// Per series: the baseline window (the last `window` run minima in a ring), the baseline (the
/// window's minimum), the mean residual × 16 and the minimum of the run in progress; and,
/// derived from them whenever they change, the coding parameters in force (floor, step and the
/// step's truncated-binary split), so that a value costs no division and no bit count.
///
/// When the quantisation step follows the values is what the segment versions differ in
/// (`Scaling`): after every value (version 1), at the end of a run from a mean that every value
/// updated in turn (version 2), or at the end of a run from the run's values taken together
/// (version 3). From version 2 the values of one series in a run decode independently of each
/// other instead of each waiting for the last one's update; version 3 also takes the mean's
/// update, whose clamp depends on the mean itself, out of the per-value path, leaving it a sum.
final class RTTModelBank {
    /// When a series' step follows its values.
    enum Scaling {
        /// After every value, from the running mean (segment version 1).
        case everyValue
        /// At the end of a run, from the running mean that each value updated (version 2).
        case endOfRunRunningMean
        /// At the end of a run, from the run's clamped values summed (version 3).
        case endOfRunSum

        /// The scaling of segment format `version`.
        init(version: UInt16) {
            switch version {
            case ...1: self = .everyValue
            case 2: self = .endOfRunRunningMean
            default: self = .endOfRunSum
            }
        }
    }

    /// Run minima in the baseline window (a power of two: the ring position wraps by masking).
    static let window = 32
    /// The quantisation step is the mean residual divided by this.
    static let stepsPerMean: UInt32 = 8
    /// Residuals are counted from this many steps below the baseline, so that values a little
    /// under it (the baseline lags a falling diurnal curve) are ordinary symbols, not escapes.
    static let floorSteps: UInt32 = 2

    /// One series. The first three fields are what a value's decoding reads.
    struct Series {
        /// The value residuals are counted from, with the step in force.
        var floor: UInt32 = 0
        /// The quantisation step in force (at least 1).
        var step: UInt32 = 1
        /// How a remainder in `0..<step` is coded.
        var remainder = TruncatedBinary.Split(below: 1)
        var baseline: UInt32 = 0
        /// The mean residual × 16 as values update it; in force from the end of the run
        /// (versions 2 and 3) or at once (version 1).
        var liveMeanX16: UInt32 = 0
        var runMinimum: UInt32 = .max
        /// Version 3: the most a value's 16 × residual counts for in the run's sum
        /// (`clampX16(meanX16:)` of the mean in force), fixed at the end of the last run.
        var clampX16: UInt32 = 64
        /// Version 3: how many values of the run in progress were counted, and their clamped
        /// 16 × residuals summed.
        var runCount: UInt32 = 0
        var runSumX16: UInt64 = 0
        var filled: UInt8 = 0
        var ringPosition: UInt8 = 0

        /// Whether a run has ended with a value: before that, values are escapes.
        var hasBaseline: Bool { filled > 0 }
    }

    /// The number of series; fixed at creation, since both sides number the series from the
    /// chunk's paths before coding a value.
    let count: Int
    /// When the step follows the values.
    let scaling: Scaling
    /// The records of series `0..<count`, which coders read and write in place.
    let series: UnsafeMutablePointer<Series>
    private let ring: UnsafeMutablePointer<UInt32>

    init(seriesCount: Int, scaling: Scaling) {
        count = seriesCount
        self.scaling = scaling
        let n = max(seriesCount, 1)
        series = .allocate(capacity: n)
        series.initialize(repeating: Series(), count: n)
        ring = .allocate(capacity: n * RTTModelBank.window)
        ring.initialize(repeating: .max, count: n * RTTModelBank.window)
    }

    deinit {
        series.deallocate()
        ring.deallocate()
    }

    /// Sets the coding parameters from a mean residual × 16 and the baseline. The step is the
    /// mean / 8 (at least 1) in versions 1 and 2; in version 3 it is the power of two nearest to
    /// that in ratio, so that a remainder is a fixed number of bits and a value a shift, not a
    /// product: 2^k with `k = ⌊log2 t⌋` for `t = ⌊181 · meanX16 / 2^14⌋` (181/128 ≈ √2) when
    /// `t ≥ 1`, else 0.
    @inline(__always) private static func setParameters(_ p: inout Series, meanX16: UInt32, scaling: Scaling) {
        let step: UInt32
        if scaling == .endOfRunSum {
            let t = (UInt64(meanX16) &* 181) &>> 14
            step = UInt32(1) &<< UInt32(truncatingIfNeeded: 63 &- (t | 1).leadingZeroBitCount)
        } else {
            step = max(1, (meanX16 >> 4) / stepsPerMean)
        }
        let margin = step &* floorSteps
        p.step = step
        p.floor = p.baseline > margin ? p.baseline - margin : 0
        p.remainder = TruncatedBinary.Split(below: step)
        p.clampX16 = clampX16(meanX16: meanX16)
    }

    /// The most a value's 16 × residual counts for in the mean: four means (and at least 4 µs),
    /// within 32 bits. In 64 bits nothing overflows, so each bound is one clamp.
    @inline(__always) static func clampX16(meanX16: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: Swift.min(Swift.max(UInt64(meanX16) &<< 2, 64), UInt64(UInt32.max)))
    }

    /// Follows the scale of the values above the baseline. A spike counts as at most four means,
    /// so one outlier does not coarsen the step for the values after it; the slow weight (1/32)
    /// keeps the step steady. Values before the first baseline leave the mean alone.
    @inline(__always) func observe(_ s: Int, value: UInt32) {
        let p = series + s
        p.pointee.runMinimum = Branchless.min(p.pointee.runMinimum, value)
        guard p.pointee.hasBaseline else { return }
        if scaling == .endOfRunSum {
            p.pointee.runSumX16 &+= RTTModelBank.clampedX16(value, baseline: p.pointee.baseline, clamp: p.pointee.clampX16)
            p.pointee.runCount &+= 1
            return
        }
        let m = p.pointee.liveMeanX16
        let c = RTTModelBank.clampedX16(value, baseline: p.pointee.baseline, clamp: RTTModelBank.clampX16(meanX16: m))
        let mean = UInt32(truncatingIfNeeded: Int64(m) &+ ((Int64(bitPattern: c) &- Int64(m)) &>> 5))
        p.pointee.liveMeanX16 = mean
        if scaling == .everyValue { RTTModelBank.setParameters(&p.pointee, meanX16: mean, scaling: scaling) }
    }

    /// What a value counts for in its series' mean: 16 × its residual over the baseline, at
    /// most `clamp`. In version 3 a run's values add these up; nothing in it depends on the
    /// run's other values.
    @inline(__always) static func clampedX16(_ value: UInt32, baseline: UInt32, clamp: UInt32) -> UInt64 {
        Swift.min(UInt64(Branchless.subtractingOrZero(value, baseline)) &<< 4, UInt64(clamp))
    }

    /// Version 3: the mean after a run whose `count` counted values summed to `sumX16`. Each
    /// value moves the mean 1/32 of the way towards itself, as in version 2, but all from the
    /// mean at the run's start; a run of 32 values or more replaces the mean with its own.
    @inline(__always) static func meanAfterRun(_ meanX16: UInt32, count: UInt32, sumX16: UInt64) -> UInt32 {
        if count >= 32 { return UInt32(truncatingIfNeeded: sumX16 / UInt64(count)) }
        // m + Σ(cᵢ − m)/32 over fewer than 32 values stays within [0, max(m, max cᵢ)], in 32 bits.
        let moved = Int64(bitPattern: sumX16) &- Int64(count) &* Int64(meanX16)
        return UInt32(truncatingIfNeeded: Int64(meanX16) &+ (moved &>> 5))
    }

    /// Closes the current run of series `s`: its minimum enters the baseline window and the
    /// run's mean takes effect. Inlined into the callers' loops over a run's series; only the
    /// window's rescan, when its minimum leaves, is a call.
    @inline(__always) func endRun(_ s: Int) {
        let p = series + s
        let runMin = p.pointee.runMinimum
        guard runMin != .max else { return }
        let count = p.pointee.runCount, sum = p.pointee.runSumX16
        p.pointee.runMinimum = .max
        p.pointee.runCount = 0
        p.pointee.runSumX16 = 0
        close(s, runMinimum: runMin, count: count, sumX16: sum)
    }

    /// Closes a run of series `s` that had values, given their minimum and, in version 3, how
    /// many were counted and their sum; the series' record holds no run in progress. The
    /// version 3 decoder calls this with the figures it kept in registers.
    @inline(__always) func close(_ s: Int, runMinimum runMin: UInt32, count: UInt32, sumX16: UInt64) {
        let p = series + s
        let ringBase = ring + s * RTTModelBank.window
        let filled = Int(p.pointee.filled)
        let position = Int(p.pointee.ringPosition)
        let evicted = filled < RTTModelBank.window ? UInt32.max : ringBase[position]
        ringBase[position] = runMin
        p.pointee.ringPosition = UInt8(truncatingIfNeeded: (position &+ 1) & (RTTModelBank.window - 1))
        p.pointee.filled = UInt8(truncatingIfNeeded: Swift.min(filled &+ 1, RTTModelBank.window))
        var mean = p.pointee.liveMeanX16
        if count > 0 { mean = RTTModelBank.meanAfterRun(mean, count: count, sumX16: sumX16) }
        if filled == 0 {
            p.pointee.baseline = runMin
            mean = (runMin / 64) << 4
        } else if runMin < p.pointee.baseline {
            p.pointee.baseline = runMin
        } else if evicted == p.pointee.baseline {
            p.pointee.baseline = RTTModelBank.minimum(ringBase)
        }
        p.pointee.liveMeanX16 = mean
        RTTModelBank.setParameters(&p.pointee, meanX16: mean, scaling: scaling)
    }

    /// The smallest of a full window (rescanned when its minimum leaves it).
    @inline(never) private static func minimum(_ window: UnsafeMutablePointer<UInt32>) -> UInt32 {
        var m = UInt32.max
        for i in 0..<RTTModelBank.window { m = Swift.min(m, window[i]) }
        return m
    }
}

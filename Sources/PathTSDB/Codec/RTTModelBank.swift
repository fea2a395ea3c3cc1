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
/// From segment version 2 the quantisation step is frozen for the length of a run: values
/// update a running mean, which takes effect when the run ends. The values of one series in a
/// run then decode independently of each other instead of each waiting for the last one's
/// update, which is what bounds the decoder's speed. Version 1 chunks used the mean at once.
final class RTTModelBank {
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
        /// (version 2) or at once (version 1).
        var liveMeanX16: UInt32 = 0
        var runMinimum: UInt32 = .max
        var filled: UInt8 = 0
        var ringPosition: UInt8 = 0

        /// Whether a run has ended with a value: before that, values are escapes.
        var hasBaseline: Bool { filled > 0 }
    }

    /// The number of series; fixed at creation, since both sides number the series from the
    /// chunk's paths before coding a value.
    let count: Int
    /// Whether the step waits for the end of the run (version 2) or follows every value (1).
    let deferredScale: Bool
    /// The records of series `0..<count`, which coders read and write in place.
    let series: UnsafeMutablePointer<Series>
    private let ring: UnsafeMutablePointer<UInt32>

    init(seriesCount: Int, deferredScale: Bool) {
        count = seriesCount
        self.deferredScale = deferredScale
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

    /// Sets the coding parameters from a mean residual × 16 and the baseline.
    @inline(__always) private static func setParameters(_ p: inout Series, meanX16: UInt32) {
        let step = max(1, (meanX16 >> 4) / stepsPerMean)
        let margin = step &* floorSteps
        p.step = step
        p.floor = p.baseline > margin ? p.baseline - margin : 0
        p.remainder = TruncatedBinary.Split(below: step)
    }

    /// Follows the scale of the values above the baseline. A spike counts as at most four means,
    /// so one outlier does not coarsen the step for the values after it; the slow weight (1/32)
    /// keeps the step steady. Values before the first baseline leave the mean alone.
    @inline(__always) func observe(_ s: Int, value: UInt32) {
        let p = series + s
        p.pointee.runMinimum = Branchless.min(p.pointee.runMinimum, value)
        guard p.pointee.hasBaseline else { return }
        let u = Branchless.subtractingOrZero(value, p.pointee.baseline)
        let m = UInt64(p.pointee.liveMeanX16)
        // A spike counts as at most four means (and at least 4 µs), all within 32 bits. In 64
        // bits nothing overflows, so the three bounds need only one clamp each.
        let clampedX16 = Swift.min(Swift.min(UInt64(u) &<< 4, Swift.max(m &<< 2, 64)), UInt64(UInt32.max))
        let mean = UInt32(truncatingIfNeeded: Int64(bitPattern: m) &+ ((Int64(bitPattern: clampedX16) &- Int64(bitPattern: m)) &>> 5))
        p.pointee.liveMeanX16 = mean
        if !deferredScale { RTTModelBank.setParameters(&p.pointee, meanX16: mean) }
    }

    /// Closes the current run of series `s`: its minimum enters the baseline window and the
    /// run's mean takes effect. Inlined into the callers' loops over a run's series; only the
    /// window's rescan, when its minimum leaves, is a call.
    @inline(__always) func endRun(_ s: Int) {
        let p = series + s
        let runMin = p.pointee.runMinimum
        guard runMin != .max else { return }
        let ringBase = ring + s * RTTModelBank.window
        let filled = Int(p.pointee.filled)
        let position = Int(p.pointee.ringPosition)
        let evicted = filled < RTTModelBank.window ? UInt32.max : ringBase[position]
        ringBase[position] = runMin
        p.pointee.ringPosition = UInt8(truncatingIfNeeded: (position &+ 1) & (RTTModelBank.window - 1))
        p.pointee.filled = UInt8(truncatingIfNeeded: Swift.min(filled &+ 1, RTTModelBank.window))
        p.pointee.runMinimum = .max
        if filled == 0 {
            p.pointee.baseline = runMin
            p.pointee.liveMeanX16 = (runMin / 64) << 4
        } else if runMin < p.pointee.baseline {
            p.pointee.baseline = runMin
        } else if evicted == p.pointee.baseline {
            p.pointee.baseline = RTTModelBank.minimum(ringBase)
        }
        RTTModelBank.setParameters(&p.pointee, meanX16: p.pointee.liveMeanX16)
    }

    /// The smallest of a full window (rescanned when its minimum leaves it).
    @inline(never) private static func minimum(_ window: UnsafeMutablePointer<UInt32>) -> UInt32 {
        var m = UInt32.max
        for i in 0..<RTTModelBank.window { m = Swift.min(m, window[i]) }
        return m
    }
}

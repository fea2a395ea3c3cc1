/// The state of every RTT series of one chunk, struct-of-arrays in memory this object owns, so
/// the per-sample path touches plain memory with no copy-on-write checks. Encoder and decoder
/// both drive one of these, which keeps their models identical by construction.
///
/// Per series: the baseline window (the last `window` run minima in a ring), the baseline (the
/// window's minimum), the mean residual × 16 and the minimum of the run in progress.
///
/// From segment version 2 the quantisation step is frozen for the length of a run: values
/// update a running mean, which takes effect when the run ends. The values of one series in a
/// run then decode independently of each other instead of each waiting for the last one's
/// update, which is what bounds the decoder's speed. Version 1 chunks used the mean at once.
final class RTTModelBank {
    static let window = 32
    /// The quantisation step is the mean residual divided by this.
    static let stepsPerMean: UInt32 = 8
    /// Residuals are counted from this many steps below the baseline, so that values a little
    /// under it (the baseline lags a falling diurnal curve) are ordinary symbols, not escapes.
    static let floorSteps: UInt32 = 2

    /// The number of series; fixed at creation, since both sides number the series from the
    /// chunk's paths before coding a value.
    let count: Int
    /// Whether the step waits for the end of the run (version 2) or follows every value (1).
    let deferredScale: Bool
    private let baseline: UnsafeMutablePointer<UInt32>
    /// The mean residual × 16 that sets the step.
    private let meanX16: UnsafeMutablePointer<UInt32>
    /// The mean residual × 16 as values update it; the same memory as `meanX16` in version 1.
    private let liveMeanX16: UnsafeMutablePointer<UInt32>
    private let runMinimum: UnsafeMutablePointer<UInt32>
    private let filled: UnsafeMutablePointer<UInt8>
    private let ringPosition: UnsafeMutablePointer<UInt8>
    private let ring: UnsafeMutablePointer<UInt32>

    init(seriesCount: Int, deferredScale: Bool) {
        count = seriesCount
        self.deferredScale = deferredScale
        let n = max(seriesCount, 1)
        baseline = .allocate(capacity: n)
        baseline.initialize(repeating: 0, count: n)
        meanX16 = .allocate(capacity: n)
        meanX16.initialize(repeating: 0, count: n)
        if deferredScale {
            liveMeanX16 = .allocate(capacity: n)
            liveMeanX16.initialize(repeating: 0, count: n)
        } else {
            liveMeanX16 = meanX16
        }
        runMinimum = .allocate(capacity: n)
        runMinimum.initialize(repeating: .max, count: n)
        filled = .allocate(capacity: n)
        filled.initialize(repeating: 0, count: n)
        ringPosition = .allocate(capacity: n)
        ringPosition.initialize(repeating: 0, count: n)
        ring = .allocate(capacity: n * RTTModelBank.window)
        ring.initialize(repeating: .max, count: n * RTTModelBank.window)
    }

    deinit {
        baseline.deallocate()
        if deferredScale { liveMeanX16.deallocate() }
        meanX16.deallocate()
        runMinimum.deallocate()
        filled.deallocate()
        ringPosition.deallocate()
        ring.deallocate()
    }

    @inline(__always) func hasBaseline(_ s: Int) -> Bool { filled[s] > 0 }

    @inline(__always) func baseline(_ s: Int) -> UInt32 { baseline[s] }

    /// The quantisation step (at least 1).
    @inline(__always) func step(_ s: Int) -> UInt32 { max(1, (meanX16[s] >> 4) / RTTModelBank.stepsPerMean) }

    /// The value residuals are counted from, with the step in force.
    @inline(__always) func floor(_ s: Int, step: UInt32) -> UInt32 {
        let margin = step &* RTTModelBank.floorSteps
        return baseline[s] > margin ? baseline[s] - margin : 0
    }

    /// Follows the scale of the values above the baseline. A spike counts as at most four means,
    /// so one outlier does not coarsen the step for the values after it; the slow weight (1/32)
    /// keeps the step steady. Values before the first baseline leave the mean alone.
    @inline(__always) func observe(_ s: Int, value: UInt32) {
        runMinimum[s] = Branchless.min(runMinimum[s], value)
        guard filled[s] > 0 else { return }
        let u = Branchless.subtractingOrZero(value, baseline[s])
        let m = liveMeanX16[s]
        // A spike counts as at most four means (and at least 4 µs), all within 32 bits.
        let ceilingX16 = UInt32(truncatingIfNeeded: Swift.min(Swift.max(UInt64(m) &* 4, 64), UInt64(UInt32.max)))
        let clampedX16 = Branchless.min(UInt32(truncatingIfNeeded: Swift.min(UInt64(u) << 4, UInt64(UInt32.max))), ceilingX16)
        liveMeanX16[s] = UInt32(truncatingIfNeeded: Int64(m) &+ ((Int64(clampedX16) &- Int64(m)) >> 5))
    }

    /// Closes the current run of series `s`: its minimum enters the baseline window.
    func endRun(_ s: Int) {
        let runMin = runMinimum[s]
        guard runMin != .max else { return }
        let ringBase = ring + s * RTTModelBank.window
        let first = filled[s] == 0
        let position = Int(ringPosition[s])
        let evicted = first || Int(filled[s]) < RTTModelBank.window ? UInt32.max : ringBase[position]
        ringBase[position] = runMin
        ringPosition[s] = UInt8((position + 1) % RTTModelBank.window)
        filled[s] = UInt8(min(Int(filled[s]) + 1, RTTModelBank.window))
        if first {
            baseline[s] = runMin
            meanX16[s] = (runMin / 64) << 4
            liveMeanX16[s] = meanX16[s]
            runMinimum[s] = .max
            return
        }
        meanX16[s] = liveMeanX16[s]  // the run's updates take effect (no-op in version 1)
        if runMin < baseline[s] {
            baseline[s] = runMin
        } else if evicted == baseline[s] {
            var m = UInt32.max
            for i in 0..<Int(filled[s]) { m = min(m, ringBase[i]) }
            baseline[s] = m
        }
        runMinimum[s] = .max
    }
}

/// The state of every RTT series of one chunk, struct-of-arrays in memory this object owns, so
/// the per-sample path touches plain memory with no copy-on-write checks. Encoder and decoder
/// both drive one of these, which keeps their models identical by construction.
///
/// Per series: the baseline window (the last `window` run minima in a ring), the baseline (the
/// window's minimum), the mean residual × 16 and the minimum of the run in progress.
final class RTTModelBank {
    static let window = 32
    /// The quantisation step is the mean residual divided by this.
    static let stepsPerMean: UInt32 = 8
    /// Residuals are counted from this many steps below the baseline, so that values a little
    /// under it (the baseline lags a falling diurnal curve) are ordinary symbols, not escapes.
    static let floorSteps: UInt32 = 2

    private(set) var count = 0
    private var capacity = 0
    private var baseline: UnsafeMutablePointer<UInt32>
    private var meanX16: UnsafeMutablePointer<UInt32>
    private var runMinimum: UnsafeMutablePointer<UInt32>
    private var filled: UnsafeMutablePointer<UInt8>
    private var ringPosition: UnsafeMutablePointer<UInt8>
    private var ring: UnsafeMutablePointer<UInt32>

    init(capacity: Int = 64) {
        self.capacity = max(capacity, 1)
        baseline = .allocate(capacity: self.capacity)
        meanX16 = .allocate(capacity: self.capacity)
        runMinimum = .allocate(capacity: self.capacity)
        filled = .allocate(capacity: self.capacity)
        ringPosition = .allocate(capacity: self.capacity)
        ring = .allocate(capacity: self.capacity * RTTModelBank.window)
    }

    deinit {
        baseline.deallocate()
        meanX16.deallocate()
        runMinimum.deallocate()
        filled.deallocate()
        ringPosition.deallocate()
        ring.deallocate()
    }

    /// Makes series `0...s` exist, new ones empty.
    @inline(__always) func ensure(_ s: Int) {
        if s < count { return }
        if s >= capacity { grow(to: max(capacity * 2, s + 1)) }
        for i in count...s {
            baseline[i] = 0
            meanX16[i] = 0
            runMinimum[i] = .max
            filled[i] = 0
            ringPosition[i] = 0
        }
        count = s + 1
    }

    private func grow(to n: Int) {
        func moved<T>(_ p: UnsafeMutablePointer<T>, _ old: Int, _ new: Int) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: new)
            q.moveInitialize(from: p, count: old)
            p.deallocate()
            return q
        }
        baseline = moved(baseline, count, n)
        meanX16 = moved(meanX16, count, n)
        runMinimum = moved(runMinimum, count, n)
        filled = moved(filled, count, n)
        ringPosition = moved(ringPosition, count, n)
        ring = moved(ring, count * RTTModelBank.window, n * RTTModelBank.window)
        capacity = n
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
        if value < runMinimum[s] { runMinimum[s] = value }
        guard filled[s] > 0 else { return }
        let u = value > baseline[s] ? value - baseline[s] : 0
        let m = meanX16[s]
        let ceilingX16 = max(UInt64(m) * 4, 64)
        let clampedX16 = min(UInt64(u) << 4, ceilingX16, UInt64(UInt32.max))
        meanX16[s] = UInt32(truncatingIfNeeded: Int64(m) + ((Int64(clampedX16) - Int64(m)) >> 5))
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
        } else if runMin < baseline[s] {
            baseline[s] = runMin
        } else if evicted == baseline[s] {
            var m = UInt32.max
            for i in 0..<Int(filled[s]) { m = min(m, ringBase[i]) }
            baseline[s] = m
        }
        runMinimum[s] = .max
    }
}

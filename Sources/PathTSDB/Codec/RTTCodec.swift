/// The RTT column of a segment chunk (FORMAT.md, "RTT section").
///
/// RTTs of one series (a TTL and the address its path has there) are coded as residuals against
/// a causal baseline: the minimum of the series' last `window` run minima, which follows slow
/// drift (diurnal queueing) without being fooled by a spike. A residual `u ≥ 0` is divided by a
/// step that tracks the series' recent mean residual (`mean / stepsPerMean`), so the quotient has
/// nearly the same distribution in every series, whatever its spread; the quotient is a byte
/// symbol coded with rANS, the remainder a truncated binary code. The symbol's table is chosen
/// by context: the first probe of a hop in a run, or the quotient of the probe before it in the
/// same hop (probes of one hop share queueing delay). Negative residuals, the first value of a
/// series and outliers go to an escape stream. Encoder and decoder run the same state machine,
/// so nothing per sample but the symbol, the remainder bits and the rare escape is stored.
struct RTTSeriesModel {
    static let window = 32
    /// The quantisation step is the mean residual divided by this.
    static let stepsPerMean: UInt32 = 8
    static let negativeSymbol: UInt8 = 254
    static let escapeSymbol: UInt8 = 255
    static let contextCount = 4

    private var ring = [UInt32](repeating: .max, count: window)
    private var ringPosition = 0
    private var filled = 0
    private(set) var baseline: UInt32 = 0
    /// Mean residual × 16, exponentially weighted.
    private var meanX16: UInt32 = 0
    /// Minimum of the run now being coded.
    private var runMinimum: UInt32 = .max

    var hasBaseline: Bool { filled > 0 }

    /// The quantisation step (at least 1).
    var step: UInt32 { max(1, (meanX16 >> 4) / RTTSeriesModel.stepsPerMean) }

    /// Residuals are counted from `floorSteps` steps below the baseline, so that values a little
    /// under it (the baseline lags a falling diurnal curve) are ordinary symbols, not escapes.
    static let floorSteps: UInt32 = 2

    /// The value residuals are counted from, with the step in force.
    @inline(__always) func floor(step: UInt32) -> UInt32 {
        let margin = step &* RTTSeriesModel.floorSteps
        return baseline > margin ? baseline - margin : 0
    }

    /// The table for a probe, from the quotient of the probe before it in the same hop and run
    /// (nil for the first).
    @inline(__always) static func context(previousSymbol: UInt8?) -> Int {
        guard let p = previousSymbol else { return 0 }
        return p < 4 ? 1 : p < 12 ? 2 : 3
    }

    /// Follows the scale of the values above the baseline. A spike counts as at most four means,
    /// so one outlier does not coarsen the step for the values after it; the slow weight (1/32)
    /// keeps the step steady. Values before the first baseline leave the mean alone.
    @inline(__always) mutating func observe(value: UInt32) {
        if value < runMinimum { runMinimum = value }
        guard hasBaseline else { return }
        let u = value > baseline ? value - baseline : 0
        let ceilingX16 = max(UInt64(meanX16) * 4, 64)
        let clampedX16 = min(UInt64(u) << 4, ceilingX16, UInt64(UInt32.max))
        meanX16 = UInt32(truncatingIfNeeded: Int64(meanX16) + ((Int64(clampedX16) - Int64(meanX16)) >> 5))
    }

    /// Closes the current run: its minimum enters the baseline window.
    mutating func endRun() {
        guard runMinimum != .max else { return }
        let first = filled == 0
        let evicted = ring[ringPosition]
        ring[ringPosition] = runMinimum
        ringPosition = (ringPosition + 1) % RTTSeriesModel.window
        filled = min(filled + 1, RTTSeriesModel.window)
        if first {
            baseline = runMinimum
            meanX16 = (runMinimum / 64) << 4
        } else if runMinimum < baseline {
            baseline = runMinimum
        } else if evicted == baseline {
            baseline = ring.min() ?? runMinimum
        }
        runMinimum = .max
    }
}

/// Truncated binary coding of `r` in `0..<n`: ⌊log2 n⌋ or ⌈log2 n⌉ bits, never wasting a
/// whole bit when `n` is not a power of two.
enum TruncatedBinary {
    @inline(__always) static func write(_ r: UInt32, below n: UInt32, to w: inout BitWriter) {
        guard n > 1 else { return }
        let b = 31 - n.leadingZeroBitCount          // ⌊log2 n⌋
        let short = (UInt32(1) << UInt32(b + 1)) &- n  // values coded in b bits
        if r < short {
            w.write(r, bits: b)
        } else {
            let v = r + short
            w.write(v >> 1, bits: b)
            w.write(v & 1, bits: 1)
        }
    }

    @inline(__always) static func read(below n: UInt32, from r: inout BitReader) -> UInt32 {
        guard n > 1 else { return 0 }
        let b = 31 - n.leadingZeroBitCount
        let short = (UInt32(1) << UInt32(b + 1)) &- n
        let v = r.read(bits: b)
        if v < short { return v }
        return ((v << 1) | r.read(bits: 1)) &- short
    }
}

/// Encodes the RTTs of one chunk, in run order, series by series state.
struct RTTEncoder {
    private var models: [RTTSeriesModel] = []
    private var symbols: [[UInt8]] = Array(repeating: [], count: RTTSeriesModel.contextCount)
    /// The context of each symbol in coding order, so the streams can be interleaved back.
    private var contexts: [UInt8] = []
    private var bits = BitWriter()
    /// Escapes: varints, appended to the chunk's compressed columns.
    private(set) var escapes: [UInt8] = []
    private var touched: [Int32] = []
    private var lastSeries: Int32 = -1
    private var previousSymbol: UInt8?

    mutating func encode(_ value: UInt32, series: Int32) {
        let s = Int(series)
        while models.count <= s { models.append(RTTSeriesModel()) }
        if series != lastSeries {
            touched.append(series)
            lastSeries = series
            previousSymbol = nil
        }
        let ctx = RTTSeriesModel.context(previousSymbol: previousSymbol)
        let sym: UInt8
        let step = models[s].step
        let floor = models[s].floor(step: step)
        if !models[s].hasBaseline {
            sym = RTTSeriesModel.escapeSymbol
            escapes.appendVarint(value)
        } else if value < floor {
            sym = RTTSeriesModel.negativeSymbol
            escapes.appendVarint(floor - value - 1)
        } else {
            let u = value - floor
            let q = u / step
            if q < UInt32(RTTSeriesModel.negativeSymbol) {
                sym = UInt8(q)
                TruncatedBinary.write(u - q * step, below: step, to: &bits)
            } else {
                // Only the excess over the largest ordinary symbol's range.
                sym = RTTSeriesModel.escapeSymbol
                escapes.appendVarint(u - UInt32(RTTSeriesModel.negativeSymbol) * step)
            }
        }
        models[s].observe(value: value)
        symbols[ctx].append(sym)
        contexts.append(UInt8(ctx))
        previousSymbol = sym
    }

    /// Ends a run: every series that had a value in it updates its baseline.
    mutating func endRun() {
        for s in touched { models[Int(s)].endRun() }
        touched.removeAll(keepingCapacity: true)
        lastSeries = -1
        previousSymbol = nil
    }

    /// The RTT section: per context a table, a symbol count and a rANS stream; then raw bits.
    mutating func finish() -> [UInt8] {
        var out = [UInt8]()
        for ctx in 0..<RTTSeriesModel.contextCount {
            let table = RANSCoder.Table(counting: symbols[ctx])
            table.encode(into: &out)
            out.appendVarint(symbols[ctx].count)
            let stream = symbols[ctx].isEmpty ? [] : RANSCoder.encode(symbols[ctx], table: table)
            out.appendVarint(stream.count)
            out.append(contentsOf: stream)
        }
        out.append(contentsOf: bits.finish())
        return out
    }
}

/// Decodes what `RTTEncoder` wrote, given the same sequence of series indices.
struct RTTDecoder {
    private var models: [RTTSeriesModel] = []
    private var touched: [Int32] = []
    private var decoders: [RANSDecoder]
    private var remaining: [Int]
    private var bits: BitReader
    private var escapes: ByteCursor
    private var lastSeries: Int32 = -1
    private var previousSymbol: UInt8?

    /// The section parsed into flat tables; the unsafe decoders point into these while
    /// `withDecoder` runs.
    struct Storage {
        var section: [UInt8]
        /// `contextCount` slot tables of `RANSCoder.scale` entries, one after the other.
        var slots: [UInt8] = []
        var frequencies: [UInt32] = []
        var starts: [UInt32] = []
        var streams: [Range<Int>] = []
        var symbolCounts: [Int] = []
        var bitsRange: Range<Int>

        init(section: [UInt8], fileOffset: Int64) throws(StorageError) {
            var c = ByteCursor(section, fileOffset: fileOffset)
            for _ in 0..<RTTSeriesModel.contextCount {
                let table = try RANSCoder.Table.decode(&c)
                slots += table.slotTable()
                frequencies += table.frequencies
                starts += table.starts
                symbolCounts.append(try c.readVarintInt())
                let n = try c.readVarintInt()
                let start = c.position
                try c.skip(n)
                streams.append(start..<(start + n))
                if symbolCounts.last != 0 && n < 4 { throw c.corruption("rANS stream shorter than its state") }
            }
            bitsRange = c.position..<section.count
            self.section = section
        }
    }

    /// Runs `body` with a decoder over `storage`.
    static func withDecoder<R>(storage: Storage, escapes: ByteCursor,
                               _ body: (inout RTTDecoder) throws(StorageError) -> R) throws(StorageError) -> R {
        var result: Result<R, StorageError>!
        storage.section.withUnsafeBufferPointer { sec in
            storage.slots.withUnsafeBufferPointer { slots in
                storage.frequencies.withUnsafeBufferPointer { freq in
                    storage.starts.withUnsafeBufferPointer { starts in
                        let scale = Int(RANSCoder.scale)
                        var decoders = [RANSDecoder]()
                        for ctx in 0..<RTTSeriesModel.contextCount {
                            decoders.append(RANSDecoder(
                                input: storage.symbolCounts[ctx] == 0 ? UnsafeBufferPointer(rebasing: sec[0..<0]) : UnsafeBufferPointer(rebasing: sec[storage.streams[ctx]]),
                                slots: UnsafeBufferPointer(rebasing: slots[(ctx * scale)..<((ctx + 1) * scale)]),
                                frequencies: UnsafeBufferPointer(rebasing: freq[(ctx * 256)..<((ctx + 1) * 256)]),
                                starts: UnsafeBufferPointer(rebasing: starts[(ctx * 256)..<((ctx + 1) * 256)])))
                        }
                        var d = RTTDecoder(decoders: decoders, remaining: storage.symbolCounts,
                                           bits: BitReader(UnsafeBufferPointer(rebasing: sec[storage.bitsRange])), escapes: escapes)
                        do throws(StorageError) {
                            result = .success(try body(&d))
                        } catch {
                            result = .failure(error)
                        }
                    }
                }
            }
        }
        return try result.get()
    }

    private init(decoders: [RANSDecoder], remaining: [Int], bits: BitReader, escapes: ByteCursor) {
        self.decoders = decoders
        self.remaining = remaining
        self.bits = bits
        self.escapes = escapes
    }

    @inline(__always) mutating func decode(series: Int32) throws(StorageError) -> UInt32 {
        let s = Int(series)
        while models.count <= s { models.append(RTTSeriesModel()) }
        if series != lastSeries {
            touched.append(series)
            lastSeries = series
            previousSymbol = nil
        }
        let ctx = RTTSeriesModel.context(previousSymbol: previousSymbol)
        guard remaining[ctx] > 0 else { throw StorageError(.corruption, "RTT section has fewer values than the chunk's probes") }
        remaining[ctx] -= 1
        let sym = decoders[ctx].decode()
        previousSymbol = sym
        let value: UInt32
        let step = models[s].step
        let floor = models[s].floor(step: step)
        if !models[s].hasBaseline {
            guard sym == RTTSeriesModel.escapeSymbol else { throw StorageError(.corruption, "RTT series \(s) starts without an escape") }
            value = try readEscape(max: UInt64(UInt32.max))
        } else if sym == RTTSeriesModel.negativeSymbol {
            value = floor - 1 - (try readEscape(max: UInt64(floor) &- 1))
        } else if sym == RTTSeriesModel.escapeSymbol {
            let base = UInt64(floor) + UInt64(RTTSeriesModel.negativeSymbol) * UInt64(step)
            value = UInt32(base + UInt64(try readEscape(max: UInt64(UInt32.max) - min(base, UInt64(UInt32.max)))))
        } else {
            let u = UInt32(sym) &* step &+ TruncatedBinary.read(below: step, from: &bits)
            value = floor &+ u
        }
        models[s].observe(value: value)
        return value
    }

    mutating func endRun() {
        for s in touched { models[Int(s)].endRun() }
        touched.removeAll(keepingCapacity: true)
        lastSeries = -1
        previousSymbol = nil
    }

    /// An escape value, which must not exceed `max` (a negative escape below zero, an escape
    /// above 2^32 − 1 µs: both damage).
    private mutating func readEscape(max: UInt64) throws(StorageError) -> UInt32 {
        let v = try escapes.readVarint()
        guard v <= max, max != UInt64.max else { throw escapes.corruption("RTT escape \(v) out of range") }
        return UInt32(v)
    }

    /// Checks that the streams were consumed exactly.
    func finish() throws(StorageError) {
        if bits.overrun || decoders.contains(where: \.overrun) {
            throw StorageError(.corruption, "RTT section ends before its values do")
        }
        guard remaining.allSatisfy({ $0 == 0 }) else {
            throw StorageError(.corruption, "RTT section holds \(remaining.reduce(0, +)) more values than the chunk's probes use")
        }
    }
}

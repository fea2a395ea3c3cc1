/// The RTT column of a segment chunk (FORMAT.md, "RTT section").
///
/// RTTs of one series (a TTL and the address its path has there) are coded as residuals against
/// a causal baseline: the minimum of the series' last `window` run minima, which follows slow
/// drift (diurnal queueing) without being fooled by a spike. A residual `u ≥ 0` is divided by a
/// step that tracks the series' recent mean residual (`mean / stepsPerMean`), so the quotient has
/// nearly the same distribution in every series, whatever its spread; the quotient is a byte
/// symbol coded with one static rANS table per chunk (two interleaved states, so the whole
/// stream decodes in one tight loop before the values are rebuilt), the remainder a truncated
/// binary code. Values a little below the baseline, the first value of a series and outliers go
/// to an escape stream. Encoder and decoder run the same state machine (`RTTModelBank`), so
/// nothing per sample but the symbol, the remainder bits and the rare escape is stored.
enum RTTSymbols {
    static let negativeSymbol: UInt8 = 254
    static let escapeSymbol: UInt8 = 255

    /// Interleaved rANS states of the symbol stream: 2 in segment format 1, 4 from version 2.
    static func lanes(version: UInt16) -> Int { version >= 2 ? 4 : 2 }
}

/// Truncated binary coding of `r` in `0..<n`: ⌊log2 n⌋ or ⌈log2 n⌉ bits, never wasting a
/// whole bit when `n` is not a power of two.
enum TruncatedBinary {
    /// How `0..<n` is coded: values below `shortForms` take `bits` bits, the others `bits + 1`.
    /// For `n = 1` that is no bits at all. The RTT model keeps one per series, computed when
    /// its step changes, so a value costs no bit count.
    struct Split {
        /// ⌊log2 n⌋.
        var bits: UInt32
        /// `2^(bits+1) − n`: how many values take the short form.
        var shortForms: UInt32

        /// The split of `0..<n`, `n ≥ 1`.
        @inline(__always) init(below n: UInt32) {
            bits = UInt32(31 - n.leadingZeroBitCount)
            shortForms = (UInt32(1) &<< (bits + 1)) &- n
        }
    }

    /// Writes the short form's `b` bits or the long form's `b + 1` as one value, without a
    /// branch on which (the long form's two parts, `v >> 1` then `v & 1`, packed LSB first).
    @inline(__always) static func write(_ r: UInt32, _ split: Split, to w: inout BitWriter) {
        let b = split.bits
        let isLong: UInt32 = r < split.shortForms ? 0 : 1
        let v = r &+ split.shortForms
        let long = (v &>> 1) | ((v & 1) &<< b)
        w.write(Branchless.select(isLong, long, r), bits: Int(b &+ isLong))
    }

    /// Reads with one peek and no data-dependent branch: whether the code is the short or the
    /// long form is as good as random, and a mispredicted branch per value costs more than
    /// computing both.
    @inline(__always) static func read(_ split: Split, from r: inout BitReader) -> UInt32 {
        let b = split.bits
        let peeked = r.peek(bits: Int(b) + 1)
        let v = peeked & ((UInt32(1) &<< b) &- 1)
        let isLong: UInt32 = v >= split.shortForms ? 1 : 0
        let longValue = ((v &<< 1) | (peeked &>> b)) &- split.shortForms
        r.consume(bits: Int(b &+ isLong))
        return Branchless.select(isLong, longValue, v)
    }
}

/// Encodes the RTTs of one chunk, in run order, series by series state.
struct RTTEncoder {
    private let models: RTTModelBank
    private let lanes: Int
    private var symbols: [UInt8] = []
    private var bits = BitWriter()
    /// Escapes: varints, appended to the chunk's compressed columns.
    private(set) var escapes: [UInt8] = []

    /// An encoder for values of series `0..<seriesCount`, in the coding of segment format
    /// `version` (the current one unless a test asks for an older).
    init(seriesCount: Int, version: UInt16 = SegmentFormat.version) {
        models = RTTModelBank(seriesCount: seriesCount, scaling: .init(version: version))
        lanes = RTTSymbols.lanes(version: version)
    }

    mutating func encode(_ value: UInt32, series: Int32) {
        let s = Int(series)
        precondition(s >= 0 && s < models.count, "series \(s) outside the \(models.count) numbered")
        let sym: UInt8
        let model = models.series[s]
        let step = model.step
        let floor = model.floor
        if !model.hasBaseline {
            sym = RTTSymbols.escapeSymbol
            escapes.appendVarint(value)
        } else if value < floor {
            sym = RTTSymbols.negativeSymbol
            escapes.appendVarint(floor - value - 1)
        } else {
            let u = value - floor
            let q = u / step
            if q < UInt32(RTTSymbols.negativeSymbol) {
                sym = UInt8(q)
                TruncatedBinary.write(u - q * step, model.remainder, to: &bits)
            } else {
                // Only the excess over the largest ordinary symbol's range.
                sym = RTTSymbols.escapeSymbol
                escapes.appendVarint(u - UInt32(RTTSymbols.negativeSymbol) * step)
            }
        }
        models.observe(s, value: value)
        symbols.append(sym)
    }

    /// Ends a run: every series that had a value in it updates its baseline. `series` must hold
    /// at least those (the run's path gives them); one without a value in the run is left alone.
    mutating func endRun<S: Sequence<Int32>>(series: S) {
        for s in series { models.endRun(Int(s)) }
    }

    /// The RTT section: table, symbol count, stream length, interleaved rANS stream, raw bits.
    mutating func finish() -> [UInt8] {
        var out = [UInt8]()
        let table = RANSCoder.Table(counting: symbols)
        table.encode(into: &out)
        out.appendVarint(symbols.count)
        let stream = symbols.isEmpty ? [] : RANSCoder.encodeInterleaved(symbols, table: table, lanes: lanes)
        out.appendVarint(stream.count)
        out.append(contentsOf: stream)
        out.append(contentsOf: bits.finish())
        return out
    }
}

/// Decodes what `RTTEncoder` wrote, given the same sequence of series indices.
struct RTTDecoder {
    private let models: RTTModelBank
    private let symbols: UnsafeBufferPointer<UInt8>
    private var next = 0
    private var bits: BitReader
    private var escapes: ByteCursor

    /// The section with its symbols already decoded.
    struct Storage {
        var section: [UInt8]
        var symbols: [UInt8]
        var bitsRange: Range<Int>

        /// - Parameter maxSymbols: the most values the chunk can hold (its probe count); a larger
        ///   count is damage, and must not make the decoder allocate for it.
        init(section: [UInt8], maxSymbols: Int, fileOffset: Int64, version: UInt16) throws(StorageError) {
            var c = ByteCursor(section, fileOffset: fileOffset)
            let table = try RANSCoder.Table.decode(&c)
            let count = try c.readVarintInt(max: maxSymbols)
            let n = try c.readVarintInt()
            let start = c.position
            try c.skip(n)
            bitsRange = c.position..<section.count
            var decoded = [UInt8](repeating: 0, count: count)
            let slotTable = RANSCoder.SlotTable(table)
            let ok = section.withUnsafeBufferPointer { sec in
                decoded.withUnsafeMutableBufferPointer { out in
                    RANSCoder.decodeInterleaved(UnsafeBufferPointer(rebasing: sec[start..<(start + n)]), count: count,
                                                lanes: RTTSymbols.lanes(version: version), table: slotTable, into: out)
                }
            }
            guard ok else { throw StorageError(.corruption, "RTT symbol stream ends before its \(count) symbols do", offset: fileOffset + Int64(start)) }
            symbols = decoded
            self.section = section
        }
    }

    /// Runs `body` with a decoder over `storage`, written in the coding of segment format `version`.
    static func withDecoder<R>(storage: Storage, seriesCount: Int, version: UInt16, escapes: ByteCursor,
                               _ body: (inout RTTDecoder) throws(StorageError) -> R) throws(StorageError) -> R {
        var result: Result<R, StorageError> = .failure(StorageError(.corruption, "RTT section was not decoded"))
        storage.section.withUnsafeBufferPointer { sec in
            storage.symbols.withUnsafeBufferPointer { symbols in
                var d = RTTDecoder(models: RTTModelBank(seriesCount: seriesCount, scaling: .init(version: version)), symbols: symbols,
                                   bits: BitReader(UnsafeBufferPointer(rebasing: sec[storage.bitsRange])), escapes: escapes)
                do throws(StorageError) {
                    result = .success(try body(&d))
                } catch {
                    result = .failure(error)
                }
            }
        }
        return try result.get()
    }

    private init(models: RTTModelBank, symbols: UnsafeBufferPointer<UInt8>, bits: BitReader, escapes: ByteCursor) {
        self.models = models
        self.symbols = symbols
        self.bits = bits
        self.escapes = escapes
    }

    /// One run's values, one of each series named in `series`, into `out`, then the run's end
    /// for the series of its path (`pathSeries`). Chunks call it for the runs of versions 1
    /// and 2, and for version 3 runs whose TTLs go down; a version 3 run whose TTLs ascend is
    /// read in the chunk's probe loop with `open`, `nextValue` and `close`, which this uses
    /// too. The ordinary value — a symbol and its remainder bits against the series' floor —
    /// takes no branch that depends on the data; escapes leave the loop for
    /// `exceptionalValue`. `ascending` says that each series' values are consecutive in
    /// `series`, as they are when the run's TTLs never decrease; then version 3 closes each
    /// series' run as soon as its values are decoded.
    @inline(never)
    mutating func decodeRun(series: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<UInt32>,
                            pathSeries: UnsafeBufferPointer<Int32>, ascending: Bool) throws(StorageError) {
        let n = series.count
        guard symbols.count - next >= n else { throw StorageError(.corruption, "RTT section has fewer values than the chunk's probes") }
        let closing = ascending && decodesRunsInline
        if decodesRunsInline {
            try decodeSummingRuns(series: series, into: out, closing: closing)
        } else if n > 0 {
            try decodeUpdatingMeans(series: series, into: out)
            next += n
        }
        if !closing { endRun(series: pathSeries) }
    }

    /// Versions 1 and 2: every value updates its series' running mean before the next value
    /// of that series is decoded.
    private mutating func decodeUpdatingMeans(series: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<UInt32>) throws(StorageError) {
        let models = self.models
        let states = models.series
        let seriesCount = UInt32(truncatingIfNeeded: models.count)
        guard let start = self.symbols.baseAddress else { return }
        let symbols = start + next
        // The bit reader in a local, so that its state stays in registers.
        var bits = self.bits
        defer { self.bits = bits }
        for i in 0..<series.count {
            let raw = series[i]
            guard UInt32(bitPattern: raw) < seriesCount else { throw StorageError(.corruption, "RTT of series \(raw), of \(models.count) numbered") }
            let s = Int(raw)
            let sym = symbols[i]
            let p = states + s
            let value: UInt32
            if sym < RTTSymbols.negativeSymbol && p.pointee.hasBaseline {
                value = p.pointee.floor &+ UInt32(sym) &* p.pointee.step &+ TruncatedBinary.read(p.pointee.remainder, from: &bits)
            } else {
                value = try exceptionalValue(symbol: sym, series: s)  // escapes only; no bits
            }
            models.observe(s, value: value)
            out[i] = value
        }
    }

    /// Version 3, through the same `open`, `nextValue` and `close` as the chunk's probe loop:
    /// a series' consecutive values (a hop's probes) are read with it open. With `closing`, each
    /// group of values is its series' last in the run, which it then closes; without, the run
    /// stays in progress in the series' record until `endRun`.
    private mutating func decodeSummingRuns(series: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<UInt32>,
                                            closing: Bool) throws(StorageError) {
        var i = 0
        while i < series.count {
            var o = try open(series: series[i])
            repeat {
                out[i] = try nextValue(&o)
                i &+= 1
            } while i < series.count && series[i] == o.series
            if closing { close(o) } else { suspend(o) }
        }
    }

    /// Whether runs may be decoded value by value inside the chunk's probe loop
    /// (`open`, `nextValue`, `close`), each series closed once its values are read: version 3,
    /// for runs whose TTLs never decrease, so that a series' values are consecutive.
    var decodesRunsInline: Bool { models.scaling == .endOfRunSum }

    /// One series' coding parameters and run figures, held by the probe loop while it reads
    /// that series' values (a hop's probes) so they stay in registers.
    struct OpenSeries {
        /// The series, or -1 when none is open.
        var series: Int32 = -1
        fileprivate var hasBaseline = false
        fileprivate var floor: UInt32 = 0
        fileprivate var shift: UInt32 = 0
        fileprivate var baseline: UInt32 = 0
        fileprivate var clamp: UInt32 = 0
        fileprivate var runMinimum: UInt32 = .max
        fileprivate var count: UInt32 = 0
        fileprivate var sumX16: UInt64 = 0

        /// What the run's values count for in the mean: nothing before the series has a
        /// baseline, whose values are all escapes.
        fileprivate var countedValues: UInt32 { hasBaseline ? count : 0 }
        fileprivate var countedSumX16: UInt64 { hasBaseline ? sumX16 : 0 }
    }

    /// Opens series `s` for its values in the current run.
    @inline(__always)
    func open(series s: Int32) throws(StorageError) -> OpenSeries {
        guard UInt32(bitPattern: s) < UInt32(truncatingIfNeeded: models.count) else {
            throw StorageError(.corruption, "RTT of series \(s), of \(models.count) numbered")
        }
        let p = models.series + Int(s)
        return OpenSeries(series: s, hasBaseline: p.pointee.hasBaseline, floor: p.pointee.floor, shift: p.pointee.remainder.bits,
                          baseline: p.pointee.baseline, clamp: p.pointee.clampX16, runMinimum: p.pointee.runMinimum,
                          count: p.pointee.runCount, sumX16: p.pointee.runSumX16)
    }

    /// The next value, of the open series `o`: what `decodeSummingRuns` does for one value.
    @inline(__always)
    mutating func nextValue(_ o: inout OpenSeries) throws(StorageError) -> UInt32 {
        guard next < symbols.count else { throw StorageError(.corruption, "RTT section has fewer values than the chunk's probes") }
        let sym = symbols[next]
        next &+= 1
        let value: UInt32
        if o.hasBaseline && sym < RTTSymbols.negativeSymbol {
            value = o.floor &+ (UInt32(sym) &<< o.shift) &+ bits.read(bits: Int(o.shift))
        } else {
            value = try exceptionalValue(symbol: sym, series: Int(o.series))
        }
        o.runMinimum = Branchless.min(o.runMinimum, value)
        o.sumX16 &+= RTTModelBank.clampedX16(value, baseline: o.baseline, clamp: o.clamp)
        o.count &+= 1
        return value
    }

    /// Closes the open series' run: its last value in the run has been read.
    @inline(__always)
    func close(_ o: OpenSeries) {
        models.close(Int(o.series), runMinimum: o.runMinimum, count: o.countedValues, sumX16: o.countedSumX16)
    }

    /// Leaves the open series' run in progress in its record: more of its values follow later
    /// in the run, and `endRun` closes it.
    func suspend(_ o: OpenSeries) {
        let p = models.series + Int(o.series)
        p.pointee.runMinimum = o.runMinimum
        p.pointee.runCount = o.countedValues
        p.pointee.runSumX16 = o.countedSumX16
    }

    /// A value coded as an escape: a series' first, one below its floor, or one beyond the
    /// largest ordinary symbol's range.
    @inline(never)
    private mutating func exceptionalValue(symbol sym: UInt8, series s: Int) throws(StorageError) -> UInt32 {
        let model = models.series[s]
        let step = model.step
        let floor = model.floor
        if !model.hasBaseline {
            guard sym == RTTSymbols.escapeSymbol else { throw StorageError(.corruption, "RTT series \(s) starts without an escape") }
            return try readEscape(max: UInt64(UInt32.max))
        } else if sym == RTTSymbols.negativeSymbol {
            return floor - 1 - (try readEscape(max: UInt64(floor) &- 1))
        } else {
            let base = UInt64(floor) + UInt64(RTTSymbols.negativeSymbol) * UInt64(step)
            return UInt32(base + UInt64(try readEscape(max: UInt64(UInt32.max) - min(base, UInt64(UInt32.max)))))
        }
    }

    /// Ends a run, as `RTTEncoder.endRun(series:)` did.
    private mutating func endRun(series: UnsafeBufferPointer<Int32>) {
        for s in series { models.endRun(Int(s)) }
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
        if bits.overrun { throw StorageError(.corruption, "RTT section ends before its values do") }
        guard next == symbols.count else {
            throw StorageError(.corruption, "RTT section holds \(symbols.count - next) more values than the chunk's probes use")
        }
    }
}

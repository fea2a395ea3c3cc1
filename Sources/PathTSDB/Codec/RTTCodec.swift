/// The RTT column of a segment chunk (FORMAT.md, "RTT section").
///
/// RTTs of one series (a TTL and the address its path has there) are coded as residuals against
/// a causal baseline: the minimum of the series' last `window` run minima, which follows slow
/// drift (diurnal queueing) without being fooled by a spike. A residual `u ≥ 0` is divided by a
/// step that tracks the series' recent mean residual (`mean / stepsPerMean`), so the quotient has
/// nearly the same distribution in every series, whatever its spread; the quotient is a byte
/// symbol coded with one static rANS table per chunk (four interleaved states, two in format 1,
/// so the whole stream decodes in one tight loop before the values are rebuilt), the remainder a
/// truncated binary code. Values a little below the baseline, the first value of a series and
/// outliers go to an escape stream. Encoder and decoder run the same state machine
/// (`RTTModelBank`), so nothing per sample but the symbol, the remainder bits and the rare
/// escape is stored.
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

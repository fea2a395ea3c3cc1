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
enum RTTSymbols {
    static let negativeSymbol: UInt8 = 254
    static let escapeSymbol: UInt8 = 255
    static let contextCount = 4

    /// The table for a probe, from the quotient of the probe before it in the same hop and run
    /// (nil for the first).
    @inline(__always) static func context(previousSymbol: UInt8?) -> Int {
        guard let p = previousSymbol else { return 0 }
        return p < 4 ? 1 : p < 12 ? 2 : 3
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
    private let models = RTTModelBank()
    private var symbols: [[UInt8]] = Array(repeating: [], count: RTTSymbols.contextCount)
    private var bits = BitWriter()
    /// Escapes: varints, appended to the chunk's compressed columns.
    private(set) var escapes: [UInt8] = []
    private var touched: [Int32] = []
    private var lastSeries: Int32 = -1
    private var previousSymbol: UInt8?

    mutating func encode(_ value: UInt32, series: Int32) {
        let s = Int(series)
        models.ensure(s)
        if series != lastSeries {
            touched.append(series)
            lastSeries = series
            previousSymbol = nil
        }
        let ctx = RTTSymbols.context(previousSymbol: previousSymbol)
        let sym: UInt8
        let step = models.step(s)
        let floor = models.floor(s, step: step)
        if !models.hasBaseline(s) {
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
                TruncatedBinary.write(u - q * step, below: step, to: &bits)
            } else {
                // Only the excess over the largest ordinary symbol's range.
                sym = RTTSymbols.escapeSymbol
                escapes.appendVarint(u - UInt32(RTTSymbols.negativeSymbol) * step)
            }
        }
        models.observe(s, value: value)
        symbols[ctx].append(sym)
        previousSymbol = sym
    }

    /// Ends a run: every series that had a value in it updates its baseline.
    mutating func endRun() {
        for s in touched { models.endRun(Int(s)) }
        touched.removeAll(keepingCapacity: true)
        lastSeries = -1
        previousSymbol = nil
    }

    /// The RTT section: per context a table, a symbol count and a rANS stream; then raw bits.
    mutating func finish() -> [UInt8] {
        var out = [UInt8]()
        for ctx in 0..<RTTSymbols.contextCount {
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
    private let models = RTTModelBank()
    private var touched: [Int32] = []
    /// The four contexts' decoders and remaining symbol counts, in memory `withDecoder` owns.
    private let decoders: UnsafeMutablePointer<RANSDecoder>
    private let remaining: UnsafeMutablePointer<Int>
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
            for _ in 0..<RTTSymbols.contextCount {
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
        var result: Result<R, StorageError> = .failure(StorageError(.corruption, "RTT section was not decoded"))
        storage.section.withUnsafeBufferPointer { sec in
            storage.slots.withUnsafeBufferPointer { slots in
                storage.frequencies.withUnsafeBufferPointer { freq in
                    storage.starts.withUnsafeBufferPointer { starts in
                        let scale = Int(RANSCoder.scale)
                        withUnsafeTemporaryAllocation(of: RANSDecoder.self, capacity: RTTSymbols.contextCount) { decoders in
                            withUnsafeTemporaryAllocation(of: Int.self, capacity: RTTSymbols.contextCount) { remaining in
                                guard let decoderBase = decoders.baseAddress, let remainingBase = remaining.baseAddress else {
                                    preconditionFailure("a temporary allocation of \(RTTSymbols.contextCount) elements has an address")
                                }
                                for ctx in 0..<RTTSymbols.contextCount {
                                    (decoderBase + ctx).initialize(to: RANSDecoder(
                                        input: storage.symbolCounts[ctx] == 0 ? UnsafeBufferPointer(rebasing: sec[0..<0]) : UnsafeBufferPointer(rebasing: sec[storage.streams[ctx]]),
                                        slots: UnsafeBufferPointer(rebasing: slots[(ctx * scale)..<((ctx + 1) * scale)]),
                                        frequencies: UnsafeBufferPointer(rebasing: freq[(ctx * 256)..<((ctx + 1) * 256)]),
                                        starts: UnsafeBufferPointer(rebasing: starts[(ctx * 256)..<((ctx + 1) * 256)])))
                                    remaining[ctx] = storage.symbolCounts[ctx]
                                }
                                var d = RTTDecoder(decoders: decoderBase, remaining: remainingBase,
                                                   bits: BitReader(UnsafeBufferPointer(rebasing: sec[storage.bitsRange])), escapes: escapes)
                                do throws(StorageError) {
                                    result = .success(try body(&d))
                                } catch {
                                    result = .failure(error)
                                }
                                _ = decoderBase.deinitialize(count: RTTSymbols.contextCount)
                            }
                        }
                    }
                }
            }
        }
        return try result.get()
    }

    private init(decoders: UnsafeMutablePointer<RANSDecoder>, remaining: UnsafeMutablePointer<Int>, bits: BitReader, escapes: ByteCursor) {
        self.decoders = decoders
        self.remaining = remaining
        self.bits = bits
        self.escapes = escapes
    }

    @inline(__always) mutating func decode(series: Int32) throws(StorageError) -> UInt32 {
        let s = Int(series)
        models.ensure(s)
        if series != lastSeries {
            touched.append(series)
            lastSeries = series
            previousSymbol = nil
        }
        let ctx = RTTSymbols.context(previousSymbol: previousSymbol)
        guard remaining[ctx] > 0 else { throw StorageError(.corruption, "RTT section has fewer values than the chunk's probes") }
        remaining[ctx] -= 1
        let sym = decoders[ctx].decode()
        previousSymbol = sym
        let value: UInt32
        let step = models.step(s)
        let floor = models.floor(s, step: step)
        if sym < RTTSymbols.negativeSymbol && models.hasBaseline(s) {
            let u = UInt32(sym) &* step &+ TruncatedBinary.read(below: step, from: &bits)
            value = floor &+ u
        } else if !models.hasBaseline(s) {
            guard sym == RTTSymbols.escapeSymbol else { throw StorageError(.corruption, "RTT series \(s) starts without an escape") }
            value = try readEscape(max: UInt64(UInt32.max))
        } else if sym == RTTSymbols.negativeSymbol {
            value = floor - 1 - (try readEscape(max: UInt64(floor) &- 1))
        } else {
            let base = UInt64(floor) + UInt64(RTTSymbols.negativeSymbol) * UInt64(step)
            value = UInt32(base + UInt64(try readEscape(max: UInt64(UInt32.max) - min(base, UInt64(UInt32.max)))))
        }
        models.observe(s, value: value)
        return value
    }

    mutating func endRun() {
        for s in touched { models.endRun(Int(s)) }
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
        if bits.overrun || (0..<RTTSymbols.contextCount).contains(where: { decoders[$0].overrun }) {
            throw StorageError(.corruption, "RTT section ends before its values do")
        }
        let left = (0..<RTTSymbols.contextCount).reduce(0) { $0 + remaining[$1] }
        guard left == 0 else {
            throw StorageError(.corruption, "RTT section holds \(left) more values than the chunk's probes use")
        }
    }
}

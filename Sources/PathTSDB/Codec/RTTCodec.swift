/// The RTT column of a segment chunk (FORMAT.md, "RTT section").
///
/// RTTs of one series (a TTL and the address its path has there) are coded as residuals against
/// a causal baseline: the minimum of the series' last `window` run minima, which follows slow
/// drift (diurnal queueing) without being fooled by a spike. A residual `u ≥ 0` is split at an
/// adaptive bit position `k` that tracks the series' recent mean residual: the quotient `u >> k`
/// is a byte symbol, coded with one static rANS table per chunk; the `k` low bits, close to
/// uniform, are stored raw. Negative residuals, the first value of a series and outliers go to an
/// escape stream. Encoder and decoder run the same state machine, so nothing per sample but the
/// symbol, the low bits and the rare escape is stored.
struct RTTSeriesModel {
    static let window = 32
    /// Quotients are aimed at a mean of 2^kSlack, leaving the distribution's shape to rANS.
    static let kSlack = 3
    static let negativeSymbol: UInt8 = 254
    static let escapeSymbol: UInt8 = 255

    private var ring = [UInt32](repeating: .max, count: window)
    private var ringPosition = 0
    private var filled = 0
    private(set) var baseline: UInt32 = 0
    /// Mean residual × 16, exponentially weighted.
    private var meanX16: UInt32 = 0
    /// Minimum of the run now being coded.
    private var runMinimum: UInt32 = .max

    var hasBaseline: Bool { filled > 0 }

    var shift: Int {
        let mean = meanX16 >> 4
        let bits = mean == 0 ? 0 : 32 - mean.leadingZeroBitCount
        return max(0, bits - RTTSeriesModel.kSlack)
    }

    @inline(__always) mutating func observe(value: UInt32, residual u: UInt32) {
        if value < runMinimum { runMinimum = value }
        let clamped = min(u, 1 << 24)
        meanX16 = UInt32(Int64(meanX16) + ((Int64(clamped) << 4) - Int64(meanX16)) >> 3)
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

/// Encodes the RTTs of one chunk, in run order, series by series state.
struct RTTEncoder {
    private var models: [RTTSeriesModel] = []
    private var symbols: [UInt8] = []
    private var bits = BitWriter()
    /// Escapes: varints, appended to the chunk's compressed columns.
    private(set) var escapes: [UInt8] = []
    private var touched: [Int32] = []

    mutating func encode(_ value: UInt32, series: Int32) {
        let s = Int(series)
        while models.count <= s { models.append(RTTSeriesModel()) }
        if touched.last != series { touched.append(series) }
        guard models[s].hasBaseline else {
            symbols.append(RTTSeriesModel.escapeSymbol)
            escapes.appendVarint(value)
            models[s].observe(value: value, residual: 0)
            return
        }
        let base = models[s].baseline
        if value < base {
            symbols.append(RTTSeriesModel.negativeSymbol)
            escapes.appendVarint(base - value - 1)
            models[s].observe(value: value, residual: 0)
            return
        }
        let u = value - base
        let k = models[s].shift
        let q = u >> UInt32(k)
        if q < UInt32(RTTSeriesModel.negativeSymbol) {
            symbols.append(UInt8(q))
            bits.write(u, bits: k)
        } else {
            symbols.append(RTTSeriesModel.escapeSymbol)
            escapes.appendVarint(value)
        }
        models[s].observe(value: value, residual: u)
    }

    /// Ends a run: every series that had a value in it updates its baseline.
    mutating func endRun() {
        for s in touched { models[Int(s)].endRun() }
        touched.removeAll(keepingCapacity: true)
    }

    /// The RTT section: table, rANS stream length, rANS stream, raw bits.
    mutating func finish() -> [UInt8] {
        var out = [UInt8]()
        let table = RANSCoder.Table(counting: symbols)
        table.encode(into: &out)
        out.appendVarint(symbols.count)
        let stream = symbols.isEmpty ? [] : RANSCoder.encode(symbols, table: table)
        out.appendVarint(stream.count)
        out.append(contentsOf: stream)
        out.append(contentsOf: bits.finish())
        return out
    }
}

/// Decodes what `RTTEncoder` wrote, given the same sequence of series indices.
struct RTTDecoder {
    private var models: [RTTSeriesModel] = []
    private var touched: [Int32] = []
    private var ransDecoder: RANSDecoder
    private var bits: BitReader
    private var escapes: ByteCursor
    private let symbolCount: Int
    private var decoded = 0

    /// Buffers that the unsafe decoders point into; kept alive by the owner for the decode.
    struct Storage {
        var section: [UInt8]
        var slots: [UInt8]
        var table: RANSCoder.Table
        var ransRange: Range<Int>
        var bitsRange: Range<Int>
        var symbolCount: Int

        init(section: [UInt8], fileOffset: Int64) throws(StorageError) {
            var c = ByteCursor(section, fileOffset: fileOffset)
            table = try RANSCoder.Table.decode(&c)
            symbolCount = try c.readVarintInt()
            let n = try c.readVarintInt()
            let start = c.position
            try c.skip(n)
            ransRange = start..<(start + n)
            bitsRange = c.position..<section.count
            slots = table.slotTable()
            self.section = section
        }
    }

    /// Runs `body` with a decoder over `storage`.
    static func withDecoder<R>(storage: Storage, escapes: ByteCursor,
                               _ body: (inout RTTDecoder) throws(StorageError) -> R) throws(StorageError) -> R {
        var result: Result<R, StorageError>!
        storage.section.withUnsafeBufferPointer { sec in
            storage.slots.withUnsafeBufferPointer { slots in
                storage.table.frequencies.withUnsafeBufferPointer { freq in
                    storage.table.starts.withUnsafeBufferPointer { starts in
                        let rans = UnsafeBufferPointer(rebasing: sec[storage.ransRange])
                        let raw = UnsafeBufferPointer(rebasing: sec[storage.bitsRange])
                        var d = RTTDecoder(
                            rans: RANSDecoder(input: rans, slots: slots, frequencies: freq, starts: starts),
                            bits: BitReader(raw), escapes: escapes, symbolCount: storage.symbolCount)
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

    private init(rans: RANSDecoder, bits: BitReader, escapes: ByteCursor, symbolCount: Int) {
        self.ransDecoder = rans
        self.bits = bits
        self.escapes = escapes
        self.symbolCount = symbolCount
    }

    @inline(__always) mutating func decode(series: Int32) throws(StorageError) -> UInt32 {
        let s = Int(series)
        while models.count <= s { models.append(RTTSeriesModel()) }
        if touched.last != series { touched.append(series) }
        guard decoded < symbolCount else { throw StorageError(.corruption, "RTT section has fewer values than the chunk's probes") }
        decoded += 1
        let sym = ransDecoder.decode()
        let value: UInt32
        if sym == RTTSeriesModel.escapeSymbol {
            value = UInt32(truncatingIfNeeded: try escapes.readVarint())
            models[s].observe(value: value, residual: models[s].hasBaseline && value >= models[s].baseline ? value - models[s].baseline : 0)
        } else if !models[s].hasBaseline {
            throw StorageError(.corruption, "RTT series \(s) starts without an escape")
        } else if sym == RTTSeriesModel.negativeSymbol {
            let d = try escapes.readVarint()
            guard d < UInt64(models[s].baseline) else { throw escapes.corruption("negative residual below zero") }
            value = models[s].baseline - UInt32(d) - 1
            models[s].observe(value: value, residual: 0)
        } else {
            let k = models[s].shift
            let u = UInt32(sym) << UInt32(k) | bits.read(bits: k)
            value = models[s].baseline &+ u
            models[s].observe(value: value, residual: u)
        }
        return value
    }

    mutating func endRun() {
        for s in touched { models[Int(s)].endRun() }
        touched.removeAll(keepingCapacity: true)
    }

    /// Checks that the streams were consumed exactly.
    func finish() throws(StorageError) {
        if ransDecoder.overrun || bits.overrun {
            throw StorageError(.corruption, "RTT section ends before its values do")
        }
        guard decoded == symbolCount else {
            throw StorageError(.corruption, "RTT section holds \(symbolCount) values, the chunk's probes used \(decoded)")
        }
    }
}

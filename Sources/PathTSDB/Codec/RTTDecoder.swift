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
    /// and 2, and for version 3 runs that `decodeAscendingRun` does not take (TTLs that go
    /// down or past the path, too little room left for unchecked reads). The ordinary value —
    /// a symbol and its remainder bits against the series' floor — takes no branch that
    /// depends on the data; escapes leave the loop for `exceptionalValue`. `ascending` says
    /// that each series' values are consecutive in `series`, as they are when the run's TTLs
    /// never decrease; then version 3 closes each series' run as soon as its values are
    /// decoded.
    @inline(never)
    mutating func decodeRun(series: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<UInt32>,
                            pathSeries: UnsafeBufferPointer<Int32>, ascending: Bool) throws(StorageError) {
        let n = series.count
        guard symbols.count - next >= n else { throw StorageError(.corruption, "RTT section has fewer values than the chunk's probes") }
        let closing = ascending && closesRunsEarly
        if closesRunsEarly {
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

    /// Version 3, through `open`, `nextValue` and `close`: a series' consecutive values (a
    /// hop's probes) are read with it open. With `closing`, each group of values is its
    /// series' last in the run, which it then closes; without, the run stays in progress in
    /// the series' record until `endRun`.
    private mutating func decodeSummingRuns(series: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<UInt32>,
                                            closing: Bool) throws(StorageError) {
        let models = self.models
        let count = UInt32(truncatingIfNeeded: models.count)
        var i = 0
        while i < series.count {
            var o = try RTTDecoder.open(series: series[i], of: models, count: count)
            repeat {
                out[i] = try nextValue(&o)
                i &+= 1
            } while i < series.count && Int(series[i]) == o.series
            if closing { RTTDecoder.close(o, in: models) } else { suspend(o) }
        }
    }

    /// Whether a series' run may be closed as soon as its values are read, when they are
    /// consecutive: version 3, whose run figures are a sum that no later value changes.
    private var closesRunsEarly: Bool { models.scaling == .endOfRunSum }

    /// Version 3: one series open while its consecutive values (a hop's probes) are read: its
    /// record, whose coding parameters stay as they are until it closes (read from there, so
    /// the loop need not hold them in registers), and its run figures so far, in locals.
    private struct OpenSeries {
        let record: UnsafeMutablePointer<RTTModelBank.Series>
        /// The series.
        let series: Int
        var runMinimum: UInt32
        /// The run's values counted (from bit 48 up) and their clamped 16 × residuals summed
        /// (below it): one addition per value.
        var countAndSum: UInt64

        static let countUnit: UInt64 = 1 &<< 48

        /// Whether `symbol` is an ordinary value's: below the negative and escape symbols, in
        /// a series with a baseline (before it, every value is an escape).
        @inline(__always) func isOrdinary(_ symbol: UInt32) -> Bool {
            symbol < UInt32(RTTSymbols.negativeSymbol) && record.pointee.hasBaseline
        }

        /// The ordinary value of `symbol` and its remainder, read from `bits` by `read`.
        @inline(__always) func value(of symbol: UInt32, remainder read: (UInt32) -> UInt32) -> UInt32 {
            let shift = record.pointee.remainder.bits
            return record.pointee.floor &+ (symbol &<< shift) &+ read(shift)
        }

        /// A value of the run: its minimum and sum follow.
        @inline(__always) mutating func take(_ value: UInt32) {
            runMinimum = Branchless.min(runMinimum, value)
            countAndSum &+= RTTModelBank.clampedX16(value, baseline: record.pointee.baseline, clamp: record.pointee.clampX16)
                &+ OpenSeries.countUnit
        }

        /// What the run's values count for in the mean: nothing before the series has a
        /// baseline.
        var countedValues: UInt32 { record.pointee.hasBaseline ? UInt32(truncatingIfNeeded: countAndSum &>> 48) : 0 }
        var countedSumX16: UInt64 { record.pointee.hasBaseline ? countAndSum & (OpenSeries.countUnit &- 1) : 0 }
    }

    /// Opens series `s` of `models` for its values in the current run. A static function of
    /// locals, so that loops can keep the model bank in a register rather than reloading it
    /// from `self`.
    @inline(__always)
    private static func open(series s: Int32, of models: RTTModelBank, count: UInt32) throws(StorageError) -> OpenSeries {
        guard UInt32(bitPattern: s) < count else {
            throw StorageError(.corruption, "RTT of series \(s), of \(count) numbered")
        }
        let p = models.series + Int(s)
        return OpenSeries(record: p, series: Int(s), runMinimum: p.pointee.runMinimum,
                          countAndSum: p.pointee.runSumX16 &+ UInt64(p.pointee.runCount) &* OpenSeries.countUnit)
    }

    /// The next value, of the open series `o`, every read checked.
    @inline(__always)
    private mutating func nextValue(_ o: inout OpenSeries) throws(StorageError) -> UInt32 {
        guard next < symbols.count else { throw StorageError(.corruption, "RTT section has fewer values than the chunk's probes") }
        let sym = UInt32(symbols[next])
        next &+= 1
        let value = o.isOrdinary(sym)
            ? o.value(of: sym) { bits.read(bits: Int($0)) }
            : try exceptionalValue(symbol: UInt8(truncatingIfNeeded: sym), series: o.series)
        o.take(value)
        return value
    }

    /// Closes the open series' run in `models`: its last value in the run has been read.
    @inline(__always)
    private static func close(_ o: OpenSeries, in models: RTTModelBank) {
        models.close(o.series, runMinimum: o.runMinimum, count: o.countedValues, sumX16: o.countedSumX16)
    }

    /// Whether `decodeAscendingRun` may read a run of `n` probes: version 3, with at least `n`
    /// symbols and room for `n` values' bits left, so that none of its reads needs a check.
    @inline(__always)
    func canDecodeUnchecked(probes n: Int) -> Bool {
        closesRunsEarly && symbols.count &- next >= n && bits.hasUncheckedRoom(forBits: n &* 32)
    }

    /// The probes of one version 3 run whose TTLs ascend and stay within its path's hops (the
    /// caller has checked: the first TTL step is at least 1 and the steps sum to at most the
    /// path's hop count), after `canDecodeUnchecked(probes: n)`: each probe's TTL, address and
    /// RTT into `out[0..<n]`, the reply details left zero. Each hop's series is open while its
    /// probes are read and closed after them; symbols and remainder bits are read without
    /// checks. A function of its own, so that the loop's state gets the registers.
    @inline(never)
    mutating func decodeAscendingRun(ttlSteps: UnsafePointer<UInt8>, statuses: UnsafePointer<UInt8>, count n: Int,
                                     hops: UnsafePointer<AddressID>, seriesOfTTL: UnsafePointer<Int32>,
                                     others: inout ColumnReader, statusColumn: ColumnReader,
                                     into out: UnsafeMutablePointer<ProbeRecord>) throws(StorageError) {
        guard let symbolBase = symbols.baseAddress else { return }
        let models = self.models
        let seriesCount = UInt32(truncatingIfNeeded: models.count)
        var symbol = symbolBase + next
        var bits = self.bits
        defer {
            self.bits = bits
            next = symbol - symbolBase
        }
        var ttl = 0, openTTL = 0
        var o = OpenSeries(record: models.series, series: 0, runMinimum: 0, countAndSum: 0)
        var step = ttlSteps, status = statuses, probe = out
        let end = ttlSteps + n
        while step < end {
            ttl &+= Int(step.pointee)
            var address = AddressID.none
            if status.pointee == 0 {
                address = hops[ttl &- 1]
            } else if status.pointee == 2 {
                address = AddressID(rawValue: try others.varint32())
            } else if status.pointee != 1 {
                throw statusColumn.corruption("unknown probe status \(status.pointee)")
            }
            var value: UInt32 = 0
            if !address.isNone {
                if ttl != openTTL {
                    if openTTL != 0 { RTTDecoder.close(o, in: models) }
                    o = try RTTDecoder.open(series: seriesOfTTL[ttl &- 1], of: models, count: seriesCount)
                    openTTL = ttl
                }
                let sym = UInt32(symbol.pointee)
                symbol += 1
                // Escapes are about 1 % of values: marked unlikely, so that the ordinary
                // value's path is the one laid out straight.
                if _fastPath(o.isOrdinary(sym)) {
                    value = o.value(of: sym) { bits.uncheckedRead(bits: $0) }
                } else {
                    value = try exceptionalValue(symbol: UInt8(truncatingIfNeeded: sym), series: o.series)
                }
                o.take(value)
            }
            probe.pointee = ProbeRecord(ttl: UInt8(truncatingIfNeeded: ttl), replyTTL: 0, icmpType: 0, icmpCode: 0,
                                        address: address, rttMicros: value, mplsIndex: 0)
            step += 1
            status += 1
            probe += 1
        }
        if openTTL != 0 { RTTDecoder.close(o, in: models) }
    }

    /// Leaves the open series' run in progress in its record: more of its values follow later
    /// in the run, and `endRun` closes it.
    private func suspend(_ o: OpenSeries) {
        let p = o.record
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
            // Bytes that passed no checksum may put a value below a floor of 0, or a floor so
            // high that no value lies beyond the ordinary symbols: corruption, not a trap.
            guard floor > 0 else { throw StorageError(.corruption, "RTT series \(s): a value below a floor of 0") }
            return floor - 1 - (try readEscape(max: UInt64(floor) - 1))
        } else {
            let base = UInt64(floor) + UInt64(RTTSymbols.negativeSymbol) * UInt64(step)
            guard base <= UInt64(UInt32.max) else {
                throw StorageError(.corruption, "RTT series \(s): floor \(floor) and step \(step) put escaped values past 2^32 µs")
            }
            return UInt32(base + UInt64(try readEscape(max: UInt64(UInt32.max) - base)))
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

import Testing
@testable import PathTSDB

@Suite struct CodecTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        // RFC 3720, appendix B.4: CRC-32C of "123456789" is 0xE3069283.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(CRC32C.checksum(long) == CRC32C.checksum(long[500...], continuing: CRC32C.checksum(long[..<500])))
        let check = Array("123456789".utf8).withUnsafeBytes { CRC32C.tableChecksum($0) }
        #expect(check == 0xE306_9283)
    }

    /// The CPU's instruction, where `checksum` uses it, and the tables agree on every length and
    /// alignment, including the tails the 8-byte steps leave.
    @Test func crc32cInstructionAndTablesAgree() {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<400).map { _ in UInt8.random(in: 0...255, using: &g) }
        bytes.withUnsafeBytes { all in
            for offset in 0..<8 {
                for length in 0..<(all.count - offset) {
                    let slice = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    let seed = UInt32(truncatingIfNeeded: length &* 2_654_435_761)
                    guard CRC32C.checksum(slice, continuing: seed) == CRC32C.tableChecksum(slice, continuing: seed) else {
                        Issue.record("CRC-32C differs at offset \(offset), length \(length) (hardware: \(CRC32C.usesHardware))")
                        return
                    }
                }
            }
        }
    }

    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 1 << 35, UInt64.max])
    func varintRoundTrips(_ v: UInt64) throws {
        var b = [UInt8]()
        b.appendVarint(v)
        b.appendZigzag(Int64(bitPattern: v))
        var c = ByteCursor(b)
        #expect(try c.readVarint() == v)
        #expect(try c.readZigzag() == Int64(bitPattern: v))
        #expect(c.isAtEnd)
    }

    @Test func truncatedVarintIsAnErrorWithItsOffset() {
        var c = ByteCursor([0x80, 0x80], fileOffset: 100)
        #expect(throws: StorageError.self) { try c.readVarint() }
        do { _ = try c.readVarint() } catch { #expect(error.offset == 102 && error.code == .corruption) }
    }

    @Test func ransRoundTripsSkewedAndUniformData() throws {
        var rng = TestRandom(seed: 7)
        for shape in 0..<3 {
            let symbols: [UInt8] = (0..<20_000).map { _ in
                switch shape {
                case 0: UInt8(min(255, rng.below(4) + rng.below(4) * rng.below(3)))
                case 1: UInt8(rng.below(256))
                default: 42
                }
            }
            let table = RANSCoder.Table(counting: symbols)
            var tb = [UInt8]()
            table.encode(into: &tb)
            var tc = ByteCursor(tb)
            let decodedTable = try RANSCoder.Table.decode(&tc)
            #expect(decodedTable == table)
            for lanes in [2, 4] {
                let encoded = RANSCoder.encodeInterleaved(symbols, table: table, lanes: lanes)
                var out = [UInt8](repeating: 0, count: symbols.count)
                let ok = encoded.withUnsafeBufferPointer { e in
                    out.withUnsafeMutableBufferPointer {
                        RANSCoder.decodeInterleaved(e, count: symbols.count, lanes: lanes, table: RANSCoder.SlotTable(decodedTable), into: $0)
                    }
                }
                #expect(ok)
                #expect(out == symbols)
                if shape == 2 { #expect(encoded.count < 4 * lanes + 8) }
            }
        }
    }

    @Test(arguments: [0, 1, 2, 3, 5, 6, 7, 1001, 1002, 1003, 20_000], [2, 4])
    func interleavedRANSRoundTrips(count: Int, lanes: Int) {
        var rng = TestRandom(seed: UInt64(count))
        let symbols: [UInt8] = (0..<count).map { _ in UInt8(min(255, rng.below(6) * rng.below(6))) }
        let table = RANSCoder.Table(counting: symbols)
        let encoded = RANSCoder.encodeInterleaved(symbols, table: table, lanes: lanes)
        var out = [UInt8](repeating: 0, count: count)
        let ok = encoded.withUnsafeBufferPointer { e in
            out.withUnsafeMutableBufferPointer { RANSCoder.decodeInterleaved(e, count: count, lanes: lanes, table: RANSCoder.SlotTable(table), into: $0) }
        }
        #expect(ok)
        #expect(out == symbols)
        // Cut short, it says so instead of reading past its end.
        if count > 100 {
            let cut = Array(encoded.prefix(encoded.count / 2))
            let bad = cut.withUnsafeBufferPointer { e in
                out.withUnsafeMutableBufferPointer { RANSCoder.decodeInterleaved(e, count: count, lanes: lanes, table: RANSCoder.SlotTable(table), into: $0) }
            }
            #expect(!bad)
        }
    }

    @Test func bitStreamRoundTrips() {
        var w = BitWriter()
        var rng = TestRandom(seed: 3)
        let values = (0..<5000).map { _ in (UInt32(truncatingIfNeeded: rng.next()), rng.below(25)) }
        for (v, n) in values { w.write(v, bits: n) }
        let bytes = w.finish()
        bytes.withUnsafeBufferPointer { p in
            var r = BitReader(p)
            for (v, n) in values { #expect(r.read(bits: n) == (n == 0 ? 0 : v & ((1 << UInt32(n)) - 1))) }
            #expect(!r.overrun)
        }
    }

    /// Decodes the values of `series` as a chunk does: one `decodeRun` per run (runs end at the
    /// indices in `runEnds`, the last of them `series.count`), every series on its path;
    /// `ascending` says whether each series' values in a run are consecutive.
    static func decodeRuns(_ d: inout RTTDecoder, series: [Int32], runEnds: Set<Int>, seriesCount: Int32,
                           ascending: Bool = false) throws(StorageError) -> [UInt32] {
        let n = max(series.count, 1)
        let names = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        _ = names.initialize(from: series)
        let values = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        defer {
            names.deallocate()
            values.deallocate()
        }
        var start = 0
        let all = Array(0..<seriesCount)
        for end in runEnds.sorted() {
            let batch = UnsafeBufferPointer(rebasing: names[start..<end])
            try all.withUnsafeBufferPointer { (path) throws(StorageError) in
                try d.decodeRun(series: batch, into: values + start, pathSeries: path, ascending: ascending)
            }
            start = end
        }
        return Array(UnsafeBufferPointer(start: values, count: series.count))
    }

    /// Every coding: version 1's step follows every value, version 2's waits for the run's end,
    /// version 3's is a power of two from the run's values summed.
    @Test(arguments: [UInt16(1), 2, 3])
    func rttCodecRoundTripsBaselinesEscapesAndNegatives(version: UInt16) throws {
        var rng = TestRandom(seed: 11)
        var enc = RTTEncoder(seriesCount: 6, version: version)
        var input = [(UInt32, Int32)]()
        var runBreaks = Set<Int>()
        for run in 0..<400 {
            for series in 0..<6 {
                for _ in 0..<3 {
                    let base = UInt32(1000 * (series + 1)) - UInt32(run % 50) * 5  // drifting down: negatives
                    var v = base + UInt32(rng.below(300))
                    if rng.chance(0.01) { v += 5_000_000 }    // outlier: escape
                    if rng.chance(0.01) { v = UInt32(rng.below(10)) }
                    input.append((v, Int32(series)))
                    enc.encode(v, series: Int32(series))
                }
            }
            enc.endRun(series: 0..<6)
            runBreaks.insert(input.count)
        }
        let section = enc.finish()
        let escapes = enc.escapes
        let storage = try RTTDecoder.Storage(section: section, maxSymbols: input.count, fileOffset: 0, version: version)
        let decoded = try RTTDecoder.withDecoder(storage: storage, seriesCount: 6, version: version, escapes: ByteCursor(escapes)) { (d: inout RTTDecoder) throws(StorageError) -> [UInt32] in
            let out = try Self.decodeRuns(&d, series: input.map(\.1), runEnds: runBreaks, seriesCount: 6)
            try d.finish()
            return out
        }
        #expect(decoded == input.map(\.0))
    }

    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"), ("::", "::"), ("::1", "::1"), ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("fe80::1:2:3:4", "fe80::1:2:3:4"), ("::ffff:192.0.2.1", "192.0.2.1"), ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func addressesParseAndPrint(_ text: String, _ printed: String) throws {
        let a = try #require(IPAddress(text))
        #expect(a.description == printed)
        #expect(IPAddress(bytes: a.bytes) == a)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "1.2.3.4 "])
    func malformedAddressesAreRejected(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func sketchQuantilesStayWithinTheStatedError() throws {
        var rng = TestRandom(seed: 5)
        let values = (0..<10_000).map { _ in UInt32(500 + rng.below(100_000)) }
        var a = QuantileSketch(values: values[..<5000])
        a.merge(QuantileSketch(values: values[5000...]))
        #expect(a == QuantileSketch(values: values))
        let sorted = values.sorted()
        for q in [0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let exact = Double(sorted[Int((q * Double(sorted.count)).rounded(.up)) - 1])
            let est = a.quantile(q) ?? -1
            #expect(abs(est - exact) <= exact * QuantileSketch.relativeAccuracy + 1e-9, "q=\(q): \(est) vs \(exact)")
        }
        var header = [UInt8](), keys = [UInt8](), counts = [UInt8]()
        a.encode(header: &header, keys: &keys, counts: &counts, keyHint: QuantileSketch.key(of: 500))
        var h = ByteCursor(header), k = ByteCursor(keys), c = ByteCursor(counts)
        #expect(try QuantileSketch.decode(counts: &h, keys: &k, binCounts: &c, keyHint: QuantileSketch.key(of: 500)) == a)
        #expect(h.isAtEnd && k.isAtEnd && c.isAtEnd)
    }

    /// Bins are the same whether the keys were counted in a histogram (a narrow range) or
    /// sorted (outliers spread them wide).
    @Test(arguments: [false, true])
    func sketchBinsAgreeWhetherCountedOrSorted(wide: Bool) {
        var rng = TestRandom(seed: wide ? 17 : 18)
        var values = (0..<200).map { _ in UInt32(20_000 + rng.below(3_000)) }
        values += [0, 0, 1]
        if wide { values += [4_000_000_000, 3, 90_000_000] }
        var reference = [Int32: UInt32]()
        for v in values where v > 0 { reference[QuantileSketch.key(of: v), default: 0] += 1 }
        let sketch = QuantileSketch(values: values)
        #expect(sketch.zeroCount == 2)
        #expect(sketch.bins.map(\.key) == reference.keys.sorted())
        #expect(sketch.bins.map(\.count) == reference.keys.sorted().map { reference[$0] ?? 0 })
    }

    /// Version 3 closes a series' run right after its values when they are consecutive in the
    /// run (`ascending`), and at the run's end otherwise: runs with each hop's probes together
    /// and runs whose probes go round the hops (as mtr's do), decoded either way they allow.
    @Test(arguments: [(false, false), (false, true), (true, false)])
    func rttCodecClosesRunsEarlyOnlyWhenSeriesAreConsecutive(roundRobin: Bool, ascending: Bool) throws {
        var rng = TestRandom(seed: 5)
        let seriesCount = 5
        var enc = RTTEncoder(seriesCount: seriesCount, version: 3)
        var input = [(UInt32, Int32)]()
        var breaks = Set<Int>()
        for run in 0..<300 {
            // Probes per series vary, a series is sometimes silent, one run in 40 is long.
            let probes = run % 40 == 39 ? 40 : 3
            var order = [Int32]()
            for series in 0..<seriesCount where !rng.chance(0.1) {
                order += Array(repeating: Int32(series), count: probes - (series == 2 ? 1 : 0))
            }
            if roundRobin { order = order.enumerated().sorted { ($0.offset % probes, $0.element) < ($1.offset % probes, $1.element) }.map(\.element) }
            for s in order {
                var v = UInt32(800 * (Int(s) + 1) + 40 * (run % 30)) + UInt32(rng.below(200 + 100 * Int(s)))
                if rng.chance(0.01) { v += 3_000_000 }
                if rng.chance(0.01) { v = UInt32(rng.below(5)) }
                input.append((v, s))
                enc.encode(v, series: s)
            }
            enc.endRun(series: 0..<Int32(seriesCount))
            breaks.insert(input.count)
        }
        let section = enc.finish()
        let escapes = enc.escapes
        let storage = try RTTDecoder.Storage(section: section, maxSymbols: input.count, fileOffset: 0, version: 3)
        let decoded = try RTTDecoder.withDecoder(storage: storage, seriesCount: seriesCount, version: 3, escapes: ByteCursor(escapes)) { (d: inout RTTDecoder) throws(StorageError) -> [UInt32] in
            let out = try Self.decodeRuns(&d, series: input.map(\.1), runEnds: breaks, seriesCount: Int32(seriesCount), ascending: ascending)
            try d.finish()
            return out
        }
        #expect(decoded == input.map(\.0))
    }

    /// Short chunks: one, two, a handful of values, odd and even counts for the interleaved states.
    @Test(arguments: [1, 2, 3, 5, 8])
    func rttCodecRoundTripsShortChunks(runs: Int) throws {
        var enc = RTTEncoder(seriesCount: 2)
        var input = [(UInt32, Int32)]()
        var breaks = Set<Int>()
        for run in 0..<runs {
            for series in 0..<2 {
                for probe in 0..<(series + 1) {
                    let v = UInt32(1000 + series * 500 + (run * 7 + probe * 3) % 20)
                    input.append((v, Int32(series)))
                    enc.encode(v, series: Int32(series))
                }
            }
            enc.endRun(series: 0..<2)
            breaks.insert(input.count)
        }
        let storage = try RTTDecoder.Storage(section: enc.finish(), maxSymbols: input.count, fileOffset: 0, version: SegmentFormat.version)
        let escapes = enc.escapes
        let decoded = try RTTDecoder.withDecoder(storage: storage, seriesCount: 2, version: SegmentFormat.version, escapes: ByteCursor(escapes)) { (d: inout RTTDecoder) throws(StorageError) -> [UInt32] in
            let out = try Self.decodeRuns(&d, series: input.map(\.1), runEnds: breaks, seriesCount: 2)
            try d.finish()
            return out
        }
        #expect(decoded == input.map(\.0))
    }
}

@Suite struct OrderStatisticsTests {
    @Test(arguments: [1, 2, 15, 16, 17, 180, 1000, 20000])
    func selectionAgreesWithSorting(count: Int) {
        var rng = TestRandom(seed: UInt64(count))
        // Values from a wide range, from five, and a single one; every seventh is UInt32.max.
        for range in [1_000_000, 5, 1] {
            let values = (0..<count).map { i in i % 7 == 3 ? UInt32.max : UInt32(rng.below(range)) }
            let sorted = values.sorted()
            let ranks = [count - 1, 0, count / 2, (count * 95 + 99) / 100 - 1, count / 2]
            var scratch = values
            #expect(OrderStatistics.select(&scratch, ranks: ranks) == ranks.map { sorted[max(0, $0)] })
            #expect(scratch.sorted() == sorted)
        }
    }
}

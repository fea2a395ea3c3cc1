import Foundation

/// A mergeable quantile sketch with relative-error guarantees, after DDSketch (Masson, Rim and
/// Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees",
/// VLDB 2019): value `v ≥ 1` falls in bin `⌈log_γ v⌉` with `γ = (1+α)/(1−α)`, so every quantile it
/// returns is within relative error `α` of the exact rank value. Merging adds bin counts, which is
/// what lets a month of 1-hour rollups answer p95 without reading raw data.
package struct QuantileSketch: Hashable, Sendable {
    /// The relative accuracy α of every quantile.
    package static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)

    /// (bin key, count), sorted by key. Values of 0 µs are counted in `zeroCount`.
    package private(set) var bins: [(key: Int32, count: UInt32)] = []
    package private(set) var zeroCount: UInt32 = 0

    package init() {}

    package var count: UInt64 { bins.reduce(UInt64(zeroCount)) { $0 + UInt64($1.count) } }

    static func key(of value: UInt32) -> Int32 {
        value < UInt32(smallKeys.count) ? Int32(smallKeys[Int(value)]) : exactKey(of: value)
    }

    @inline(__always) static func exactKey(of value: UInt32) -> Int32 {
        Int32((log(Double(value)) / logGamma).rounded(.up))
    }

    /// Keys of values below 65,536 µs (most RTTs), computed once with the same formula.
    static let smallKeys: [Int16] = (0..<65_536).map { $0 == 0 ? 0 : Int16(exactKey(of: UInt32($0))) }

    /// The value a bin stands for: the point whose relative error to both bin edges is α.
    static func value(ofKey key: Int32) -> Double {
        2 * pow(gamma, Double(key)) / (gamma + 1)
    }

    /// Builds a sketch from raw values. The keys of a bucket's values lie close together, so
    /// they are counted in a histogram over their range; a wide range (outliers) sorts instead.
    package init<S: Sequence>(values: S) where S.Element == UInt32 {
        var keys = [Int32]()
        keys.reserveCapacity(values.underestimatedCount)
        var low = Int32.max, high = Int32.min
        for v in values {
            if v == 0 {
                zeroCount += 1
            } else {
                let k = QuantileSketch.key(of: v)
                keys.append(k)
                low = Swift.min(low, k)
                high = Swift.max(high, k)
            }
        }
        guard !keys.isEmpty else { return }
        let span = Int(high) - Int(low) + 1
        if span <= 4 * keys.count + 64 {
            var histogram = [UInt32](repeating: 0, count: span)
            for k in keys { histogram[Int(k - low)] += 1 }
            for (i, c) in histogram.enumerated() where c > 0 { bins.append((low + Int32(i), c)) }
            return
        }
        keys.sort()
        var i = 0
        while i < keys.count {
            var j = i
            while j < keys.count && keys[j] == keys[i] { j += 1 }
            bins.append((keys[i], UInt32(j - i)))
            i = j
        }
    }

    package mutating func merge(_ other: QuantileSketch) {
        zeroCount += other.zeroCount
        guard !other.bins.isEmpty else { return }
        guard !bins.isEmpty else { bins = other.bins; return }
        var out = [(key: Int32, count: UInt32)]()
        out.reserveCapacity(bins.count + other.bins.count)
        var i = 0, j = 0
        while i < bins.count || j < other.bins.count {
            if j == other.bins.count || (i < bins.count && bins[i].key < other.bins[j].key) {
                out.append(bins[i]); i += 1
            } else if i == bins.count || other.bins[j].key < bins[i].key {
                out.append(other.bins[j]); j += 1
            } else {
                out.append((bins[i].key, bins[i].count + other.bins[j].count)); i += 1; j += 1
            }
        }
        bins = out
    }

    /// The value at rank `⌈q·n⌉` (1-based), within relative error α; nil when empty.
    package func quantile(_ q: Double) -> Double? {
        let n = count
        guard n > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(n)).rounded(.up)))
        var seen = UInt64(zeroCount)
        if rank <= seen { return 0 }
        for b in bins {
            seen += UInt64(b.count)
            if rank <= seen { return QuantileSketch.value(ofKey: b.key) }
        }
        return bins.last.map { QuantileSketch.value(ofKey: $0.key) }
    }

    package static func == (a: QuantileSketch, b: QuantileSketch) -> Bool {
        a.zeroCount == b.zeroCount && a.bins.count == b.bins.count
            && zip(a.bins, b.bins).allSatisfy { $0.key == $1.key && $0.count == $1.count }
    }

    package func hash(into h: inout Hasher) {
        h.combine(zeroCount)
        for b in bins { h.combine(b.key); h.combine(b.count) }
    }

    // MARK: - Encoding

    /// Writes the sketch into three streams (rollup blocks keep each kind together): the zero
    /// and bin counts to `header`; the first key relative to `keyHint`, then the gaps between
    /// keys, to `keys`; each bin's count less one to `counts`.
    func encode(header: inout [UInt8], keys: inout [UInt8], counts: inout [UInt8], keyHint: Int32) {
        header.appendVarint(zeroCount)
        header.appendVarint(bins.count)
        var last = keyHint
        for (i, b) in bins.enumerated() {
            if i == 0 { keys.appendZigzag(Int64(b.key) - Int64(last)) } else { keys.appendVarint(UInt64(b.key - last - 1)) }
            counts.appendVarint(b.count &- 1)
            last = b.key
        }
    }

    /// Decodes a sketch whose header, key gaps and counts lie in three streams (rollup blocks).
    static func decode(counts header: inout ByteCursor, keys: inout ByteCursor, binCounts: inout ByteCursor,
                       keyHint: Int32) throws(StorageError) -> QuantileSketch {
        var s = QuantileSketch()
        s.zeroCount = UInt32(try header.readVarintInt(max: Int(UInt32.max)))
        let n = try header.readVarintInt(max: 1 << 16)
        var last = keyHint
        s.bins.reserveCapacity(n)
        for i in 0..<n {
            // The first key is a signed offset from the hint, the rest gaps above the last one;
            // either, from bytes that passed no checksum, may lie past any key.
            let step: Int64 = i == 0 ? try keys.readZigzag() : 1 + Int64(try keys.readVarintInt(max: Int(UInt32.max)))
            let (key, overflow) = Int64(last).addingReportingOverflow(step)
            guard !overflow, key >= Int64(Int32.min), key <= Int64(Int32.max) else { throw keys.corruption("sketch key out of range") }
            let count = UInt32(try binCounts.readVarintInt(max: Int(UInt32.max) - 1)) + 1
            s.bins.append((Int32(key), count))
            last = Int32(key)
        }
        return s
    }
}

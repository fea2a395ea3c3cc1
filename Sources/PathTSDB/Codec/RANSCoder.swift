/// A static order-0 range asymmetric numeral system coder over byte symbols (Duda, "Asymmetric
/// numeral systems", 2013; byte-wise renormalisation with a 32-bit state).
///
/// The frequency table is built from the data it codes and stored with it; decoding is a table
/// lookup and a multiply per symbol.
enum RANSCoder {
    static let scaleBits: UInt32 = 12
    static let scale: UInt32 = 1 << scaleBits
    static let lowerBound: UInt32 = 1 << 23

    /// Symbol frequencies normalised to sum to `scale`, every present symbol at least 1.
    struct Table: Equatable {
        var frequencies: [UInt32]  // 256 entries
        var starts: [UInt32]       // 256 entries

        init(counting symbols: [UInt8]) {
            var counts = [Int](repeating: 0, count: 256)
            for s in symbols { counts[Int(s)] += 1 }
            self.init(counts: counts)
        }

        init(counts: [Int]) {
            let total = counts.reduce(0, +)
            var freq = [UInt32](repeating: 0, count: 256)
            if total > 0 {
                var sum: UInt32 = 0
                for i in 0..<256 where counts[i] > 0 {
                    freq[i] = max(1, UInt32((UInt64(counts[i]) * UInt64(RANSCoder.scale)) / UInt64(total)))
                    sum += freq[i]
                }
                // Give or take the rounding difference from the most frequent symbols.
                var order = (0..<256).filter { freq[$0] > 0 }.sorted { freq[$0] > freq[$1] }
                var k = 0
                while sum != RANSCoder.scale {
                    let i = order[k % order.count]
                    if sum < RANSCoder.scale {
                        freq[i] += 1
                        sum += 1
                    } else if freq[i] > 1 {
                        freq[i] -= 1
                        sum -= 1
                    }
                    k += 1
                    if k > 1 << 20 { order = order.filter { freq[$0] > 1 } ; k = 0 }
                }
            }
            self.frequencies = freq
            self.starts = Table.cumulative(freq)
        }

        private init(frequencies: [UInt32]) {
            self.frequencies = frequencies
            self.starts = Table.cumulative(frequencies)
        }

        private static func cumulative(_ f: [UInt32]) -> [UInt32] {
            var s = [UInt32](repeating: 0, count: 256)
            var acc: UInt32 = 0
            for i in 0..<256 {
                s[i] = acc
                acc += f[i]
            }
            return s
        }

        /// Serialises the present symbols as (symbol gap, frequency) varints.
        func encode(into out: inout [UInt8]) {
            let present = (0..<256).filter { frequencies[$0] > 0 }
            out.appendVarint(present.count)
            var last = -1
            for s in present {
                out.appendVarint(s - last - 1)
                out.appendVarint(frequencies[s])
                last = s
            }
        }

        static func decode(_ c: inout ByteCursor) throws(StorageError) -> Table {
            let n = try c.readVarintInt(max: 256)
            var f = [UInt32](repeating: 0, count: 256)
            var last = -1
            var sum: UInt32 = 0
            for _ in 0..<n {
                let s = last + 1 + (try c.readVarintInt(max: 255))
                guard s < 256 else { throw c.corruption("rANS table symbol \(s) out of range") }
                let v = try c.readVarintInt(max: Int(RANSCoder.scale))
                f[s] = UInt32(v)
                sum += UInt32(v)
                last = s
            }
            guard n == 0 || sum == RANSCoder.scale else { throw c.corruption("rANS table sums to \(sum), not \(RANSCoder.scale)") }
            return Table(frequencies: f)
        }
    }

    /// One encoding step: renormalise (bytes out, to be reversed later), then fold `s` into `x`.
    @inline(__always) static func put(_ s: UInt8, into x: inout UInt32, table: Table, output out: inout [UInt8]) {
        let f = table.frequencies[Int(s)]
        let xMax = ((lowerBound >> scaleBits) << 8) * f
        while x >= xMax {
            out.append(UInt8(truncatingIfNeeded: x))
            x >>= 8
        }
        x = ((x / f) << scaleBits) + (x % f) + table.starts[Int(s)]
    }
}

extension RANSCoder {
    /// Encodes `symbols` with two interleaved states (even positions on one, odd on the other),
    /// so the decoder's two dependency chains run side by side. The output decodes front to back
    /// with `decodeInterleaved`.
    static func encodeInterleaved(_ symbols: [UInt8], table: Table) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(symbols.count + 8)
        var states: (UInt32, UInt32) = (lowerBound, lowerBound)
        var i = symbols.count - 1
        while i >= 0 {
            var x = i & 1 == 0 ? states.0 : states.1
            put(symbols[i], into: &x, table: table, output: &out)
            if i & 1 == 0 { states.0 = x } else { states.1 = x }
            i -= 1
        }
        // Reversed below, the decoder reads state 0 then state 1, most significant byte first.
        for x in [states.1, states.0] {
            out.append(UInt8(truncatingIfNeeded: x))
            out.append(UInt8(truncatingIfNeeded: x >> 8))
            out.append(UInt8(truncatingIfNeeded: x >> 16))
            out.append(UInt8(truncatingIfNeeded: x >> 24))
        }
        out.reverse()
        return out
    }

    /// Per-slot decoding table: the symbol, its frequency and `slot − start`, so one lookup per
    /// slot gives the whole state update.
    struct SlotTable {
        var symbol: [UInt8]
        var frequency: [UInt32]
        var bias: [UInt32]

        init(_ table: Table) {
            let n = Int(RANSCoder.scale)
            symbol = [UInt8](repeating: 0, count: n)
            frequency = [UInt32](repeating: 0, count: n)
            bias = [UInt32](repeating: 0, count: n)
            for s in 0..<256 where table.frequencies[s] > 0 {
                let start = Int(table.starts[s])
                for k in start..<(start + Int(table.frequencies[s])) {
                    symbol[k] = UInt8(s)
                    frequency[k] = table.frequencies[s]
                    bias[k] = UInt32(k - start)
                }
            }
        }
    }

    /// Decodes `count` symbols of an interleaved stream into `output`.
    /// - Returns: false when the stream ended before the symbols did (damage).
    static func decodeInterleaved(_ input: UnsafeBufferPointer<UInt8>, count: Int, table: SlotTable,
                                  into output: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        guard count > 0 else { return true }
        guard input.count >= 8, output.count >= count else { return false }
        return table.symbol.withUnsafeBufferPointer { sym in
            table.frequency.withUnsafeBufferPointer { freq in
                table.bias.withUnsafeBufferPointer { bias in
                    var p = 0
                    let n = input.count
                    var x0: UInt32 = 0, x1: UInt32 = 0
                    for _ in 0..<4 { x0 = x0 << 8 | UInt32(input[p]); p += 1 }
                    for _ in 0..<4 { x1 = x1 << 8 | UInt32(input[p]); p += 1 }
                    let mask = RANSCoder.scale - 1
                    var i = 0
                    while i + 1 < count {
                        let s0 = Int(x0 & mask)
                        output[i] = sym[s0]
                        x0 = freq[s0] &* (x0 >> RANSCoder.scaleBits) &+ bias[s0]
                        while x0 < RANSCoder.lowerBound {
                            guard p < n else { return false }
                            x0 = x0 << 8 | UInt32(input[p]); p += 1
                        }
                        let s1 = Int(x1 & mask)
                        output[i + 1] = sym[s1]
                        x1 = freq[s1] &* (x1 >> RANSCoder.scaleBits) &+ bias[s1]
                        while x1 < RANSCoder.lowerBound {
                            guard p < n else { return false }
                            x1 = x1 << 8 | UInt32(input[p]); p += 1
                        }
                        i += 2
                    }
                    if i < count {
                        let s0 = Int(x0 & mask)
                        output[i] = sym[s0]
                    }
                    return true
                }
            }
        }
    }
}

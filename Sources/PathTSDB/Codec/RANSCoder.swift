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
    /// Encodes `symbols` with `lanes` interleaved states (symbol `i` on state `i % lanes`), so
    /// that the decoder's dependency chains run side by side: 2 lanes in segment format 1, 4
    /// from version 2. The output decodes front to back with `decodeInterleaved`.
    static func encodeInterleaved(_ symbols: [UInt8], table: Table, lanes: Int) -> [UInt8] {
        precondition(lanes == 2 || lanes == 4, "\(lanes) rANS lanes")
        var out = [UInt8]()
        out.reserveCapacity(symbols.count + 4 * lanes)
        var states = [UInt32](repeating: lowerBound, count: lanes)
        var i = symbols.count - 1
        while i >= 0 {
            put(symbols[i], into: &states[i % lanes], table: table, output: &out)
            i -= 1
        }
        // Reversed below, the decoder reads state 0, 1, … each most significant byte first.
        for x in states.reversed() {
            out.append(UInt8(truncatingIfNeeded: x))
            out.append(UInt8(truncatingIfNeeded: x >> 8))
            out.append(UInt8(truncatingIfNeeded: x >> 16))
            out.append(UInt8(truncatingIfNeeded: x >> 24))
        }
        out.reverse()
        return out
    }

    /// Per-slot decoding table: the symbol, its frequency and `slot − start` packed in one
    /// word (symbol in bits 24–31, `slot − start` in 12–23, frequency − 1 in 0–11), so one
    /// 4-byte lookup per slot gives the whole state update and the table fits in 16 KiB.
    struct SlotTable {
        var slots: [UInt32]

        init(_ table: Table) {
            slots = [UInt32](repeating: 0, count: Int(RANSCoder.scale))
            for s in 0..<256 where table.frequencies[s] > 0 {
                let start = Int(table.starts[s])
                let f = table.frequencies[s]
                for k in start..<(start + Int(f)) {
                    slots[k] = UInt32(s) << 24 | UInt32(k - start) << 12 | (f - 1)
                }
            }
        }
    }

    /// Decodes `count` symbols of a stream of `lanes` interleaved states into `output`.
    /// - Returns: false when the stream ended before the symbols did (damage).
    static func decodeInterleaved(_ input: UnsafeBufferPointer<UInt8>, count: Int, lanes: Int, table: SlotTable,
                                  into output: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        guard count > 0 else { return true }
        guard lanes == 2 || lanes == 4, input.count >= 4 * lanes, output.count >= count,
              let bytes = input.baseAddress, let out = output.baseAddress else { return false }
        return table.slots.withUnsafeBufferPointer { slotBuffer in
            guard let slots = slotBuffer.baseAddress else { return false }
            var p = 0
            let n = input.count
            var x = (UInt32(0), UInt32(0), UInt32(0), UInt32(0))
            func state() -> UInt32 {
                var v: UInt32 = 0
                for _ in 0..<4 { v = v << 8 | UInt32(bytes[p]); p += 1 }
                return v
            }
            x.0 = state()
            x.1 = state()
            if lanes == 4 {
                x.2 = state()
                x.3 = state()
            }
            let mask = RANSCoder.scale - 1
            /// Writes the symbol of state `v` to `out[i]` and returns the state after it, before
            /// renormalisation: `f·(v >> 12) + bias`, at least 2^11.
            @inline(__always) func decodeSymbol(_ v: UInt32, into i: Int) -> UInt32 {
                let e = slots[Int(v & mask)]
                out[i] = UInt8(truncatingIfNeeded: e >> 24)
                return ((e & 0xFFF) &+ 1) &* (v >> RANSCoder.scaleBits) &+ ((e >> 12) & 0xFFF)
            }
            /// One symbol, then the 0, 1 or 2 bytes that bring the state back to 2^23 or more,
            /// which its leading zero count gives: no loop, no data-dependent branch. The caller
            /// vouches for 4 bytes at `p` (only those wanted are used).
            @inline(__always) func step(_ v: inout UInt32, into i: Int) {
                let next = decodeSymbol(v, into: i)
                let k = UInt64(max(next.leadingZeroBitCount, 1) &- 1) &>> 3
                let word = UInt64(UInt32(bigEndian: UnsafeRawPointer(bytes + p).loadUnaligned(as: UInt32.self)))
                v = UInt32(truncatingIfNeeded: (UInt64(next) &<< (k &<< 3)) | (word &>> (32 &- (k &<< 3))))
                p &+= Int(k)
            }
            /// The same with the bytes read one at a time, near the end of the stream.
            @inline(__always) func carefulStep(_ v: inout UInt32, into i: Int) -> Bool {
                v = decodeSymbol(v, into: i)
                while v < RANSCoder.lowerBound {
                    guard p < n else { return false }
                    v = v << 8 | UInt32(bytes[p]); p += 1
                }
                return true
            }
            var i = 0
            if lanes == 4 {
                // Four steps take at most 8 bytes of a sound stream, 12 of a damaged one, and
                // each loads 4 from where it starts: 16 bytes keep every load in the stream.
                while i + 3 < count && n - p >= 16 {
                    step(&x.0, into: i); step(&x.1, into: i + 1); step(&x.2, into: i + 2); step(&x.3, into: i + 3)
                    i += 4
                }
                while i + 3 < count {
                    guard carefulStep(&x.0, into: i), carefulStep(&x.1, into: i + 1), carefulStep(&x.2, into: i + 2),
                          carefulStep(&x.3, into: i + 3) else { return false }
                    i += 4
                }
            } else {
                while i + 1 < count {
                    guard carefulStep(&x.0, into: i), carefulStep(&x.1, into: i + 1) else { return false }
                    i += 2
                }
            }
            // The last symbol of each lane left: no bytes to bring in after it.
            var lane = 0
            while i < count {
                let v = lane == 0 ? x.0 : lane == 1 ? x.1 : x.2
                out[i] = UInt8(truncatingIfNeeded: slots[Int(v & mask)] >> 24)
                i += 1
                lane += 1
            }
            return true
        }
    }
}

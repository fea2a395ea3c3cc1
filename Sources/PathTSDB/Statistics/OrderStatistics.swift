/// Exact order statistics without a full sort: quickselect (Hoare, "Algorithm 65: Find", 1961)
/// with a median-of-three pivot, several ranks in one pass over the shrinking right part.
package enum OrderStatistics {
    /// The values at 0-based `ranks` of `values` (which it reorders), in the order asked.
    package static func select(_ values: inout [UInt32], ranks: [Int]) -> [UInt32] {
        guard !values.isEmpty else { return [] }
        let order = ranks.indices.sorted { ranks[$0] < ranks[$1] }
        var out = [UInt32](repeating: 0, count: ranks.count)
        values.withUnsafeMutableBufferPointer { a in
            var low = 0
            for i in order {
                let k = min(max(ranks[i], 0), a.count - 1)
                if k < low {
                    // Same rank as before, or below: already in place.
                    out[i] = a[k]
                    continue
                }
                out[i] = select(a, k, from: low, to: a.count - 1)
                low = k
            }
        }
        return out
    }

    /// Places the k-th smallest of `a[lo...hi]` at `a[k]` with nothing larger before it and
    /// nothing smaller after it; returns it.
    private static func select(_ a: UnsafeMutableBufferPointer<UInt32>, _ k: Int, from lo0: Int, to hi0: Int) -> UInt32 {
        var lo = lo0, hi = hi0
        while hi > lo {
            if hi - lo < 16 {
                // Insertion sort of a short range.
                for i in (lo + 1)...hi {
                    let v = a[i]
                    var j = i - 1
                    while j >= lo && a[j] > v {
                        a[j + 1] = a[j]
                        j -= 1
                    }
                    a[j + 1] = v
                }
                return a[k]
            }
            let mid = lo + (hi - lo) / 2
            if a[mid] < a[lo] { a.swapAt(mid, lo) }
            if a[hi] < a[lo] { a.swapAt(hi, lo) }
            if a[hi] < a[mid] { a.swapAt(hi, mid) }
            let pivot = a[mid]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
        }
        return a[k]
    }
}

/// Exact order statistics without a full sort: quickselect (Hoare, "Algorithm 65: Find", 1961)
/// with a median-of-three pivot, several ranks in one pass over the shrinking right part.
///
/// The partitions are branch-free (Lomuto's scheme with an unconditional swap, the comparison
/// taken as arithmetic): RTTs around a pivot compare at random, so a branch on each comparison
/// would be mispredicted about half the time, which cost more than the comparisons themselves.
package enum OrderStatistics {
    /// The values at 0-based `ranks` of `values` (which it reorders), in the order asked.
    package static func select(_ values: inout [UInt32], ranks: [Int]) -> [UInt32] {
        guard !values.isEmpty else { return [] }
        let order = ranks.indices.sorted { ranks[$0] < ranks[$1] }
        var out = [UInt32](repeating: 0, count: ranks.count)
        values.withUnsafeMutableBufferPointer { a in
            guard let base = a.baseAddress else { return }
            var low = 0
            for i in order {
                let k = min(max(ranks[i], 0), a.count - 1)
                if k < low {
                    // Same rank as before, or below: already in place.
                    out[i] = a[k]
                    continue
                }
                out[i] = select(base, k, from: low, through: a.count - 1)
                low = k
            }
        }
        return out
    }

    /// Places the k-th smallest of `a[lo...hi]` at `a[k]` with nothing larger before it and
    /// nothing smaller after it; returns it.
    private static func select(_ a: UnsafeMutablePointer<UInt32>, _ k: Int, from lo0: Int, through hi0: Int) -> UInt32 {
        var lo = lo0, hi = hi0
        while hi - lo >= 16 {
            let mid = lo + (hi - lo) / 2
            let x = a[lo], y = a[mid], z = a[hi]
            let pivot = max(min(x, y), min(max(x, y), z))
            // [lo, less) < pivot ≤ [less, hi]
            let less = partition(a, from: lo, through: hi, below: UInt64(pivot))
            if k < less {
                hi = less - 1  // the pivot itself is not below it, so this shrinks the range
                continue
            }
            if less > lo {
                lo = less
                continue
            }
            // Nothing was below the pivot: it is the smallest value, perhaps of many equal ones.
            // Those go next, so that the range still shrinks: [lo, equal) == pivot < [equal, hi]
            let equal = partition(a, from: lo, through: hi, below: UInt64(pivot) + 1)
            if k < equal { return pivot }
            lo = equal
        }
        if hi > lo {
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
        }
        return a[k]
    }

    /// Moves the values of `a[lo...hi]` below `bound` before the others; returns where the
    /// others start. Every step swaps, and only the count of values moved depends on the
    /// comparison.
    @inline(__always)
    private static func partition(_ a: UnsafeMutablePointer<UInt32>, from lo: Int, through hi: Int, below bound: UInt64) -> Int {
        var store = lo
        for i in lo...hi {
            let v = a[i]
            a[i] = a[store]
            a[store] = v
            store &+= Branchless.isBelow(v, bound)
        }
        return store
    }
}

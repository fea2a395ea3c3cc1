/// Division of times into buckets, shared by the store and the query planner. Rounds toward
/// −∞ (unlike `/`), and holds over the whole `Int64` range: a caller may pass `Int64.min` as
/// "since forever".
package enum TimeArithmetic {
    /// ⌊a / b⌋, for `b > 0`.
    @inlinable package static func floorDivide(_ a: Int64, by b: Int64) -> Int64 {
        let q = a / b
        // q − 1 cannot overflow: with a remainder, b ≥ 2 and so q > Int64.min.
        return a % b < 0 ? q - 1 : q
    }

    /// The largest multiple of `b` not above `a`, for `b > 0`; `Int64.min` when that multiple
    /// lies below the range.
    @inlinable package static func floorMultiple(_ a: Int64, of b: Int64) -> Int64 {
        let (m, overflow) = floorDivide(a, by: b).multipliedReportingOverflow(by: b)
        return overflow ? Int64.min : m
    }
}

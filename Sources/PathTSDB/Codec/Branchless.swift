/// Minimum and selection by arithmetic. In the RTT decoder's loop LLVM turns `min` and `?:`
/// into branches when they lie on the loop's dependency chain, and those branches follow the
/// data, so they mispredict about half the time; these forms leave it nothing to turn.
enum Branchless {
    /// The smaller of `a` and `b`.
    @inline(__always) static func min(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let d = Int64(a) &- Int64(b)
        return UInt32(truncatingIfNeeded: Int64(b) &+ (d & (d >> 63)))
    }

    /// `a − b`, or 0 when `b > a`.
    @inline(__always) static func subtractingOrZero(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let d = Int64(a) &- Int64(b)
        return UInt32(truncatingIfNeeded: d & ~(d >> 63))
    }

    /// `condition ? a : b` for a condition that is 0 or 1.
    @inline(__always) static func select(_ condition: UInt32, _ a: UInt32, _ b: UInt32) -> UInt32 {
        let mask = 0 &- condition
        return (a & mask) | (b & ~mask)
    }

    /// 1 when `a < b`, else 0 (for `b` up to 2^32, as a bound past the largest UInt32).
    @inline(__always) static func isBelow(_ a: UInt32, _ b: UInt64) -> Int {
        Int(truncatingIfNeeded: (UInt64(a) &- b) &>> 63)
    }
}

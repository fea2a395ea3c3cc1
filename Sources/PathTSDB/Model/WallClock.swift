#if canImport(Glibc)
import Glibc
#endif

/// The real-time clock, in microseconds since the Unix epoch: what run times are stored in.
package enum WallClock {
    /// Now, in microseconds since the epoch (CLOCK_REALTIME).
    package static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}

/// Durations as operators write them, one grammar for the targets file, the query language and
/// every command-line option: a whole number and a unit, `ms`, `s`, `m`, `h`, `d` or `w`, or
/// several of those in a row (`1h30m`). `0s` is a duration; callers that need a positive one say so.
///
/// Durations are bounded by `maxMicros` (about 1,000 years) so that a time plus or minus one
/// never overflows: the text comes from outside (a query string, a YAML file) and must not be
/// able to trap the process.
package enum DurationText {
    /// The longest duration accepted: 1,000 years of 365.25 days, in microseconds.
    package static let maxMicros: Int64 = 1000 * 36_525 * 864_000_000

    /// Microseconds, or nil when the text is not a duration or exceeds `maxMicros`.
    package static func parseMicros(_ text: String) -> Int64? {
        if case .micros(let v) = read(text) { return v }
        return nil
    }

    /// Whether `text` is written as a duration but is longer than `maxMicros`, so that an error
    /// can say so rather than call it malformed.
    package static func isTooLong(_ text: String) -> Bool {
        if case .tooLong = read(text) { return true }
        return false
    }

    private enum Reading { case micros(Int64), malformed, tooLong }

    private static func read(_ text: String) -> Reading {
        var total: Int64 = 0
        var value: Int64 = 0
        var digits = 0
        var any = false
        var chars = text.unicodeScalars.makeIterator()
        var pending = chars.next()
        while let c = pending {
            pending = chars.next()
            if c.isASCII, let d = Int64(exactly: c.value), d >= 0x30, d <= 0x39 {
                value = value * 10 + (d - 0x30)
                digits += 1
                // 15 digits times the largest unit still fits in Int64; more is past the bound.
                guard digits <= 15 else { return .tooLong }
                continue
            }
            guard digits > 0 else { return .malformed }
            let unit: Int64
            switch c {
            case "m" where pending == "s":
                pending = chars.next()
                unit = 1000
            case "s": unit = 1_000_000
            case "m": unit = 60_000_000
            case "h": unit = 3_600_000_000
            case "d": unit = 86_400_000_000
            case "w": unit = 604_800_000_000
            default: return .malformed
            }
            let (part, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow, part <= maxMicros else { return .tooLong }
            total += part
            guard total <= maxMicros else { return .tooLong }
            value = 0
            digits = 0
            any = true
        }
        return digits == 0 && any ? .micros(total) : .malformed
    }

    /// The largest whole unit that divides `micros`: `1h`, `90s`, `7d`, `250ms`; `0s` for zero.
    package static func format(micros: Int64) -> String {
        let units: [(Int64, String)] = [(604_800_000_000, "w"), (86_400_000_000, "d"), (3_600_000_000, "h"),
                                        (60_000_000, "m"), (1_000_000, "s")]
        if micros == 0 { return "0s" }
        for (u, name) in units where micros % u == 0 { return "\(micros / u)\(name)" }
        return micros % 1000 == 0 ? "\(micros / 1000)ms" : "\(micros)us"
    }

    /// A point in time as written: RFC 3339 (`absolute`, microseconds since the epoch), or
    /// `now`, `now-24h`, `-24h`, `+1h` (`relative` to now, in microseconds).
    package enum Point: Sendable, Equatable {
        case absolute(Int64)
        case relative(Int64)
    }

    /// Reads a point in time; nil when `text` is none of the forms `Point` lists.
    package static func parsePoint(_ text: String) -> Point? {
        if let t = RFC3339.parse(text) { return .absolute(t) }
        var rel = Substring(text)
        if rel.hasPrefix("now") { rel = rel.dropFirst(3) }
        if rel.isEmpty { return .relative(0) }
        guard let sign = rel.first, sign == "-" || sign == "+", let d = parseMicros(String(rel.dropFirst())) else { return nil }
        return .relative(sign == "-" ? -d : d)
    }

    /// A point in time resolved against `now`; nil when unreadable or out of range.
    package static func parseTime(_ text: String, now: Int64) -> Int64? {
        switch parsePoint(text) {
        case .absolute(let t): return t
        case .relative(let d):
            let (t, overflow) = now.addingReportingOverflow(d)
            return overflow ? nil : t
        case nil: return nil
        }
    }
}

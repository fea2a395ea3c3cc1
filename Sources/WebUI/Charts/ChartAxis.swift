import PathTSDB

/// Tick positions for a chart's axes: round values an operator reads at a glance.
package enum ChartAxis {
    /// Ticks for an RTT axis from 0 to at least `maximum` ms: about `count` steps of 1, 2 or 5
    /// times a power of ten. Returns the ticks (0 first) and the axis top, the last tick.
    package static func valueTicks(upTo maximum: Double, count: Int = 5) -> (ticks: [Double], top: Double) {
        guard maximum.isFinite, maximum > 0 else { return ([0, 1], 1) }
        let rough = maximum / Double(max(count, 1))
        var power = 1.0
        while power * 10 <= rough { power *= 10 }
        while power > rough { power /= 10 }
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? power * 10
        let steps = Int((maximum / step).rounded(.up))
        let ticks = (0...max(steps, 1)).map { Double($0) * step }
        return (ticks, ticks.last ?? step)
    }

    /// A time step between ticks, and how each tick is labelled.
    package struct TimeStep: Sendable, Equatable {
        package var micros: Int64
        /// `hm` (14:30), `dayHour` (Dec 7 12h), `day` (Dec 7), `month` (Dec 2026).
        package var label: TimeLabel
    }

    package enum TimeLabel: Sendable, Equatable { case hm, dayHour, day, month }

    static let minute: Int64 = 60_000_000, hour: Int64 = 3_600_000_000, day: Int64 = 86_400_000_000

    /// The step for a range of `span` µs: the smallest of a fixed ladder that gives at most
    /// `maximum` ticks.
    package static func timeStep(span: Int64, maximum: Int = 8) -> TimeStep {
        let ladder: [TimeStep] = [
            .init(micros: 5 * minute, label: .hm), .init(micros: 10 * minute, label: .hm), .init(micros: 15 * minute, label: .hm),
            .init(micros: 30 * minute, label: .hm), .init(micros: hour, label: .hm), .init(micros: 2 * hour, label: .hm),
            .init(micros: 3 * hour, label: .hm), .init(micros: 6 * hour, label: .dayHour), .init(micros: 12 * hour, label: .dayHour),
            .init(micros: day, label: .day), .init(micros: 2 * day, label: .day), .init(micros: 7 * day, label: .day),
            .init(micros: 14 * day, label: .day), .init(micros: 30 * day, label: .month), .init(micros: 91 * day, label: .month),
        ]
        return ladder.first { span / $0.micros <= Int64(maximum) } ?? .init(micros: 365 * day, label: .month)
    }

    /// Ticks of `step` within `from..<to`, on multiples of the step (UTC).
    package static func timeTicks(from: Int64, to: Int64, step: TimeStep) -> [Int64] {
        guard to > from, step.micros > 0 else { return [] }
        let first = from % step.micros == 0 ? from : (from / step.micros + (from > 0 ? 1 : 0)) * step.micros
        return Array(stride(from: first, to: to, by: Int(step.micros)).map { Int64($0) })
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A tick's label, in UTC.
    package static func label(_ micros: Int64, _ label: TimeLabel) -> String {
        let (y, m, d, hh, mm) = civil(micros)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch label {
        case .hm: return "\(two(hh)):\(two(mm))"
        case .dayHour: return "\(months[m - 1]) \(d) \(two(hh))h"
        case .day: return "\(months[m - 1]) \(d)"
        case .month: return "\(months[m - 1]) \(y)"
        }
    }

    /// Year, month, day, hour and minute of `micros` since the epoch, UTC.
    static func civil(_ micros: Int64) -> (Int, Int, Int, Int, Int) {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = RFC3339.civil(fromDays: days)
        return (Int(y), Int(m), Int(d), secondOfDay / 3600, secondOfDay % 3600 / 60)
    }
}

import Foundation

/// The colours of loss on a median line, in bands an operator knows from SmokePing (none, a
/// little, some, much, most, all), taken from the Okabe–Ito palette so that colour-blind
/// readers can tell them apart; a legend spells each band out.
package enum LossScale {
    /// Upper bounds (fractions) of each band but the last, and its colour and name.
    static let bands: [(upTo: Double, color: String, name: String)] = [
        (0, "#009e73", "no loss"),
        (0.05, "#56b4e9", "up to 5 %"),
        (0.10, "#0072b2", "up to 10 %"),
        (0.20, "#e69f00", "up to 20 %"),
        (0.50, "#cc79a7", "up to 50 %"),
        (0.999_999, "#d55e00", "more than 50 %"),
        (1, "#000000", "all lost"),
    ]

    /// The band of a loss fraction; nil loss (nothing sent) is drawn as no loss.
    static func band(_ loss: Double?) -> Int {
        let l = loss ?? 0
        return bands.firstIndex { l <= $0.upTo } ?? bands.count - 1
    }

    /// The CSS class of a loss fraction's band: `loss-0` to `loss-6`.
    static func cssClass(_ loss: Double?) -> String { "loss-\(band(loss))" }

    /// "2 of 20 probes lost (10 %)".
    static func describe(_ b: SmokeBucket) -> String {
        guard b.sent > 0 else { return "no probes" }
        return "\(b.lost) of \(b.sent) probes lost (\(ChartNumber.format(Double(b.lost) * 100 / Double(b.sent))) %)"
    }

    /// The bands as (colour, name), for a legend.
    package static var legend: [(color: String, name: String)] { bands.map { ($0.color, $0.name) } }

    static var styleRules: String {
        bands.indices.map { i in
            // All lost is black on white and white on black.
            i == bands.count - 1 ? ".chart .loss-\(i){stroke:currentColor;fill:currentColor}" : ".chart .loss-\(i){stroke:\(bands[i].color);fill:\(bands[i].color)}"
        }.joined(separator: "\n")
    }
}

/// Numbers as a chart writes them: no more digits than they need, at most three significant.
enum ChartNumber {
    static func format(_ v: Double) -> String {
        guard v.isFinite else { return "–" }
        let a = abs(v)
        let decimals = a >= 100 || a == 0 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3
        var s = String(format: "%.\(decimals)f", v)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}

/// Times in a chart's words: `2026-12-07 14:30 UTC`.
enum RFCTime {
    static func short(_ micros: Int64) -> String {
        let (y, m, d, hh, mm) = ChartAxis.civil(micros)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d)) \(two(hh)):\(two(mm)) UTC"
    }
}

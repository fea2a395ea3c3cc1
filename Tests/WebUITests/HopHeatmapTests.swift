import Foundation
import Testing
@testable import WebUI

/// The hop × time heatmaps: which cell gets which colour, cells of one colour merged, and an
/// accessible SVG document whatever the data.
@Suite struct HopHeatmapTests {
    static let t0 = SmokeChartTests.t0, minute = SmokeChartTests.minute

    /// Three hops over 120 one-minute buckets: TTL 1 steady at 1 ms; TTL 2 at 5 ms, then 25 ms
    /// from minute 60; TTL 3 at 30 ms, losing 5 of 10 probes in minutes 90–99 and silent (nothing
    /// sent to it counted) in the last ten.
    static func series() -> [Int: [SmokeBucket]] {
        func bucket(_ i: Int, median: Double?, sent: Int = 10, lost: Int = 0) -> SmokeBucket {
            SmokeBucket(startMicros: t0 + Int64(i) * minute, endMicros: t0 + Int64(i + 1) * minute, sent: sent, lost: lost,
                        medianMillis: median, quantilesMillis: median.map { [$0] } ?? [])
        }
        return [
            1: (0..<120).map { bucket($0, median: 1) },
            2: (0..<120).map { bucket($0, median: $0 < 60 ? 5 : 25) },
            3: (0..<110).map { bucket($0, median: 30, lost: (90..<100).contains($0) ? 5 : 0) },
        ]
    }

    func cells(_ svg: String) throws -> [(fill: String, x: Double, width: Double, y: Double, note: String)] {
        _ = try SmokeChartTests.parse(svg)  // a well-formed document
        // Bands carry their colour and a title; read both in order from the text.
        var out = [(fill: String, x: Double, width: Double, y: Double, note: String)]()
        var rest = Substring(svg)
        while let r = rest.range(of: "<rect class=\"band\" fill=\"") {
            rest = rest[r.upperBound...]
            let fill = String(rest.prefix { $0 != "\"" })
            func attribute(_ name: String) -> Double {
                guard let a = rest.range(of: " \(name)=\"") else { return -1 }
                return Double(rest[a.upperBound...].prefix { $0 != "\"" }) ?? -1
            }
            let note = rest.range(of: "<title>").map { t in String(rest[t.upperBound...].prefix { $0 != "<" }) } ?? ""
            out.append((fill, attribute("x"), attribute("width"), attribute("y"), note))
        }
        return out
    }

    @Test func latencyCellsAreColouredByTheirMedianAndMerged() throws {
        let map = HopHeatmap(title: "lab/gw — median RTT per hop", measure: .latency, fromMicros: Self.t0, toMicros: Self.t0 + 120 * Self.minute,
                             series: Self.series())
        let svg = map.svg()
        let all = try cells(svg)
        // Legend swatches come after the cells: eight, from 1 to 30 ms.
        let legend = all.suffix(8)
        #expect(legend.map(\.fill) == HopHeatmap.latencyColours)
        #expect(legend.first?.note == "1–4.62 ms" && legend.last?.note == "26.4–30 ms", "\(legend.map(\.note))")
        let grid = all.dropLast(8)
        // TTL 1: one run, the darkest; TTL 2: two runs (5 ms, then 25 ms); TTL 3: one run to
        // minute 110 (loss does not colour latency), nothing after.
        #expect(grid.map(\.fill) == [HopHeatmap.latencyColours[0], HopHeatmap.latencyColours[1], HopHeatmap.latencyColours[6], HopHeatmap.latencyColours[7]])
        #expect(Set(grid.map(\.y)).count == 3)
        #expect(grid[2].note.hasPrefix("TTL 2, ") && grid[2].note.contains("median 22.8–26.4 ms"), "\(grid[2].note)")
        #expect(abs(grid[1].width + grid[2].width - grid[0].width) < 0.01)
        #expect(abs(grid[3].width / grid[0].width - 110.0 / 120) < 0.01)
        #expect(svg.contains("role=\"img\"") && svg.contains("3 hops from TTL 1 at the top, from 1 ms (darkest) to 30 ms (lightest)"))
    }

    @Test func lossCellsAreColouredByLossBand() throws {
        var map = HopHeatmap(title: "lab/gw — loss per hop", measure: .loss, fromMicros: Self.t0, toMicros: Self.t0 + 120 * Self.minute,
                             series: Self.series())
        map.marks = [ChartMark(timeMicros: Self.t0 + 60 * Self.minute, kind: .pathChange(link: "/diff?old=1&new=2"), note: "path change at TTL 2")]
        let svg = map.svg()
        let grid = try cells(svg).dropLast(LossScale.bands.count)
        // TTL 1 and 2 lost nothing: one cell each; TTL 3: none lost, half lost, none again.
        #expect(grid.map(\.fill) == [LossScale.bands[0].color, LossScale.bands[0].color, LossScale.bands[0].color, LossScale.bands[4].color,
                                     LossScale.bands[0].color])
        #expect(grid[3].note.hasSuffix(": 50 of 100 probes lost"), "\(grid[3].note)")
        // A silent hop (nothing answered, nothing counted lost) is blank, not "no loss".
        var silent = Self.series()
        silent[2] = (silent[2] ?? []).map { var b = $0; b.medianMillis = nil; b.quantilesMillis = []; return b }
        let withSilent = try cells(HopHeatmap(title: "t", measure: .loss, fromMicros: Self.t0, toMicros: Self.t0 + 120 * Self.minute, series: silent).svg())
        #expect(withSilent.dropLast(LossScale.bands.count).count == 4)
        #expect(svg.contains("<a href=\"/diff?old=1&amp;new=2\">"))
        #expect(try SmokeChartTests.parse(svg).found.contains { $0.name == "desc" })
    }

    /// A steady year of ten-minute buckets over 30 hops: one cell a hop, a few kilobytes.
    @Test func aSteadyYearIsOneCellAHop() throws {
        let count = 365 * 24 * 6
        let tenMinutes = 10 * Self.minute
        var series = [Int: [SmokeBucket]]()
        for ttl in 1...30 {
            series[ttl] = (0..<count).map { i in
                SmokeBucket(startMicros: Self.t0 + Int64(i) * tenMinutes, endMicros: Self.t0 + Int64(i + 1) * tenMinutes, sent: 30, lost: 0,
                            medianMillis: Double(ttl), quantilesMillis: [Double(ttl)])
            }
        }
        let svg = HopHeatmap(title: "a year", measure: .latency, fromMicros: Self.t0, toMicros: Self.t0 + Int64(count) * tenMinutes, series: series).svg()
        #expect(try cells(svg).count == 30 + 8)
        #expect(svg.utf8.count < 20_000, "\(svg.utf8.count) bytes")
    }

    @Test func hostileTitlesAreText() throws {
        let svg = HopHeatmap(title: "<script>alert(1)</script>", measure: .loss, fromMicros: Self.t0, toMicros: Self.t0 + Self.minute, series: [:]).svg()
        #expect(!svg.contains("<script>") && svg.contains("&lt;script&gt;"))
        _ = try SmokeChartTests.parse(svg)
    }
}

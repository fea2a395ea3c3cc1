import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import WebUI

/// The smoke graph: what it draws, where, in which colour, and that it stays an SVG document of
/// bounded size whatever the data.
@Suite struct SmokeChartTests {
    static let t0: Int64 = 1_796_000_000_000_000 - 1_796_000_000_000_000 % 3_600_000_000
    static let minute: Int64 = 60_000_000

    /// `count` one-minute buckets; bucket i's RTTs lie around 10 + i % 5 ms, loss as given.
    static func buckets(_ count: Int, lost: (Int) -> Int = { _ in 0 }) -> [SmokeBucket] {
        (0..<count).map { i in
            let base = 10 + Double(i % 5)
            let l = lost(i)
            return SmokeBucket(startMicros: t0 + Int64(i) * minute, endMicros: t0 + Int64(i + 1) * minute, sent: 20, lost: l,
                               medianMillis: l == 20 ? nil : base,
                               quantilesMillis: l == 20 ? [] : [base - 2, base - 1, base - 0.5, base, base + 0.5, base + 3, base + 8])
        }
    }

    /// Elements and attributes of an SVG, read back with an XML parser: a test of the document,
    /// not of the text.
    final class Elements: NSObject, XMLParserDelegate {
        var found: [(name: String, attributes: [String: String])] = []
        var text = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            found.append((name, attributes))
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    }

    static func parse(_ svg: String) throws -> Elements {
        let e = Elements()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = e
        #expect(p.parse(), "not well-formed: \(String(describing: p.parserError))")
        return e
    }

    @Test func aThreeHourGraphDrawsSmokeMediansAndLossColours() throws {
        var chart = SmokeChart(title: "core/gw — hop 3", fromMicros: Self.t0, toMicros: Self.t0 + 180 * Self.minute,
                               buckets: Self.buckets(180) { $0 == 40 ? 2 : $0 == 41 ? 20 : 0 })
        chart.marks = [ChartMark(timeMicros: Self.t0 + 90 * Self.minute, kind: .pathChange(link: "/diff?old=1&new=2"), note: "path change at TTL 3")]
        let doc = try Self.parse(chart.svg())
        // One path per loss band of the medians: 177 buckets without loss, one losing 2 of 20
        // (10 %, "up to 10 %"); the bucket that lost everything is a bar of its own.
        let medians = doc.found.filter { $0.attributes["class"]?.hasPrefix("median") == true }
        #expect(medians.map { $0.attributes["class"] ?? "" } == ["median loss-0", "median loss-2"])
        #expect(medians.first?.attributes["d"]?.filter { $0 == "M" }.count == 178)
        #expect(doc.found.first { $0.attributes["class"] == "lost loss-6" }?.attributes["d"]?.filter { $0 == "M" }.count == 1)
        // Three smoke bands (seven ranks: the outer three pairs), a rectangle per bucket each.
        let smoke = doc.found.filter { $0.attributes["class"] == "smoke" }
        #expect(smoke.count == 3 && smoke.allSatisfy { $0.attributes["d"]?.filter { $0 == "M" }.count == 179 })
        let change = try #require(doc.found.first { $0.name == "a" })
        #expect(change.attributes["href"] == "/diff?old=1&new=2")
        #expect(doc.text.contains("path change at TTL 3") && doc.text.contains("10 % ") == false)
        #expect(doc.text.contains("1 path change"))
        // Time ticks at round half hours; the value axis to 20 ms covers every median.
        #expect(doc.text.contains("00:30") || doc.text.contains("01:00"))
        #expect(doc.text.contains("20 ms") || doc.text.contains("25 ms"))
    }

    @Test func aYearOfMinutesIsDrawnInNoMoreColumnsThanPixels() throws {
        let count = 365 * 24 * 60 / 10   // ten-minute buckets of a year: 52,560
        let tenMinutes = 10 * Self.minute
        let buckets = (0..<count).map { (i: Int) -> SmokeBucket in
            let start = Self.t0 + Int64(i) * tenMinutes
            return SmokeBucket(startMicros: start, endMicros: start + tenMinutes, sent: 30, lost: i % 100 == 0 ? 3 : 0,
                               medianMillis: 20, quantilesMillis: [18, 19, 20, 21, 30])
        }
        let chart = SmokeChart(title: "a year", fromMicros: Self.t0, toMicros: Self.t0 + Int64(count) * tenMinutes, buckets: buckets)
        #expect(chart.drawnBuckets.count <= chart.plotWidth)
        #expect(chart.drawnBuckets.reduce(0) { $0 + $1.sent } == count * 30)
        let svg = chart.svg()
        let size = svg.utf8.count
        #expect(size < 400_000, "\(size) bytes")
        _ = try Self.parse(svg)
    }

    @Test func namesAreEscaped() throws {
        let chart = SmokeChart(title: "<script>alert(1)</script> & \"x\"", fromMicros: Self.t0, toMicros: Self.t0 + 60 * Self.minute,
                               buckets: Self.buckets(60))
        let svg = chart.svg()
        #expect(!svg.contains("<script>"))
        let doc = try Self.parse(svg)
        #expect(doc.text.contains("<script>alert(1)</script> & \"x\""))
    }

    @Test func noDataIsSaidInWords() throws {
        let chart = SmokeChart(title: "quiet", fromMicros: Self.t0, toMicros: Self.t0 + 60 * Self.minute, buckets: [])
        let doc = try Self.parse(chart.svg())
        #expect(doc.text.contains("no replies, no probes"))
    }

    @Test(arguments: [(0.7, [0.0, 0.2, 0.4, 0.6, 0.8]), (13.0, [0.0, 5, 10, 15]), (240.0, [0.0, 50, 100, 150, 200, 250]), (1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])])
    func valueTicksAreRound(_ maximum: Double, _ expected: [Double]) {
        let (ticks, top) = ChartAxis.valueTicks(upTo: maximum)
        #expect(zip(ticks, expected).allSatisfy { abs($0 - $1) < 1e-9 } && ticks.count == expected.count, "\(ticks)")
        #expect(top >= maximum)
    }

    @Test func timeTicksFallOnRoundTimesInUTC() {
        let from = Self.t0 + 7 * Self.minute, to = from + 3 * 60 * Self.minute
        let step = ChartAxis.timeStep(span: to - from, maximum: 7)
        #expect(step.micros == 30 * Self.minute)
        let ticks = ChartAxis.timeTicks(from: from, to: to, step: step)
        #expect(ticks.allSatisfy { $0 % (30 * Self.minute) == 0 && $0 >= from && $0 < to } && ticks.count == 6)
        // 2026-12-07T12:00:00Z.
        #expect(ChartAxis.label(1_796_644_800_000_000, .hm) == "12:00")
        #expect(ChartAxis.label(1_796_644_800_000_000, .day) == "Dec 7")
        #expect(ChartAxis.label(1_796_644_800_000_000, .month) == "Dec 2026")
    }
}

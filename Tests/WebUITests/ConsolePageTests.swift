import Foundation
import Testing
import PathTSDB
import Query
@testable import WebUI

/// The query console on a store of known runs: the answer as a table and a graph, the plan, the
/// CSV link, and an error pointed at in the text.
@Suite struct ConsolePageTests {
    static let now = TargetPageTests.t0 + 120 * TargetPageTests.minute

    func page(_ text: String) throws -> String {
        try withStore(TargetPageTests.runs()) { store in
            try PageRenderer(version: "test").render("console", ConsolePage(text: text, at: nil)
                .model(snapshot: store.snapshot(), context: QueryContext(nowMicros: Self.now)))
        }
    }

    @Test func anAnswerIsATableWithItsPlanAndCSVLink() throws {
        let html = try page("stats count, loss of \"lab/gw\" last 3h by ttl")
        #expect(html.contains("<th scope=\"col\">ttl</th><th scope=\"col\">count</th><th scope=\"col\">loss</th>"), "\(html)")
        #expect(html.contains("<tr><td>3</td><td>1200</td><td>5</td></tr>"), "\(html)")
        #expect(html.contains("Plan: <code>") && html.contains("3 rows"))
        #expect(html.contains("href=\"/api/v1/query?format=csv&amp;q=stats%20count%2C%20loss%20of%20%22lab%2Fgw%22%20last%203h%20by%20ttl\""))
        #expect(!html.contains("<svg"))   // not a time series
    }

    @Test func aTimeSeriesIsAlsoAGraph() throws {
        let html = try page("stats p50 of \"lab/gw\" last 3h step 10m by time, ttl")
        #expect(html.components(separatedBy: "<svg ").count - 1 == 1)
        #expect(html.components(separatedBy: "class=\"series\"").count - 1 == 3, "one line per TTL")
        #expect(html.contains("p50 (ttl 3)"))
    }

    @Test func anErrorIsShownWhereItIs() throws {
        let html = try page("stats p50 of \"lab/gw\"\nlast 3 fortnights")
        #expect(html.contains("role=\"alert\"><p>line 2, column "), "\(html)")
        #expect(html.contains("<pre>last 3 fortnights\n"))
        #expect(!html.contains("<table class=\"result\">"))
    }

    @Test func theQueryTextIsText() throws {
        let html = try page("</textarea><script>alert(1)</script>")
        #expect(!html.contains("<script>") && html.contains("&lt;/textarea&gt;&lt;script&gt;"))
    }

    @Test func aResultChartNeedsATimeAndANumber() {
        #expect(ResultChart(title: "t", columns: ["target", "loss"], rows: [[.text("a"), .number(1)]]) == nil)
        #expect(ResultChart(title: "t", columns: ["time", "target"], rows: [[.time(1), .text("a")]]) == nil)
        let chart = ResultChart(title: "t", columns: ["time", "target", "p95"],
                                rows: (0..<20).map { [.time(Int64($0) * 60_000_000), .text($0 % 2 == 0 ? "a" : "b"), .number(Double($0))] })
        #expect(chart?.series.map(\.name) == ["p95 (target a)", "p95 (target b)"] && chart?.series.first?.points.count == 10)
    }
}

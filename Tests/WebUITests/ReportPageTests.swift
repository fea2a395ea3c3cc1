import Foundation
import Testing
import PathTSDB
import Query
@testable import WebUI

/// The report over a store of known runs: a day of lab/gw against the day before, its hop 2
/// slower by 20 ms, its path changed once; core/x as it was; the ranking and the CSV.
@Suite struct ReportPageTests {
    static let t0 = SmokeSeriesQueryTests.t0, day: Int64 = 86_400_000_000

    /// The day before: `SmokeSeriesQueryTests.runs()` of lab/gw and core/x; this day: the same
    /// again, lab/gw's hop 2 now 20 ms slower and from another address after an hour.
    static func runs() -> [TraceRun] {
        let base = SmokeSeriesQueryTests.runs()
        var out = [TraceRun]()
        for (i, run) in base.enumerated() {
            var before = run
            before.startMicros -= day
            before.endMicros -= day
            out.append(before)
            var other = before
            other.target = "core/x"
            out.append(other)
            var later = other
            later.startMicros += day
            later.endMicros += day
            out.append(later)
            var now = run
            now.probes = run.probes.map { p in
                guard p.ttl == 2, let a = p.address else { return p }
                return ProbeReply(ttl: 2, address: i >= 60 ? IPAddress(v4: 0x0A00_000C) : a, rttMicros: p.rttMicros + 20_000, replyTTL: 63, icmpType: 11)
            }
            out.append(now)
        }
        // In time order, as a monitor stores them.
        return out.sorted { $0.startMicros < $1.startMicros }
    }

    func data(rank: String? = nil) throws -> ReportPage.Data {
        let end = Self.t0 + 120 * SmokeSeriesQueryTests.minute
        return try withStore(Self.runs()) { store in
            try ReportPage(group: nil, period: "day", rank: rank, endMicros: end).data(snapshot: store.snapshot(), nowMicros: end)
        }
    }

    @Test func theTargetThatGotWorseIsRankedFirstWithItsHop() throws {
        let d = try data()
        #expect(d.targets.map(\.target) == ["lab/gw", "core/x"])
        let gw = d.targets[0]
        #expect(gw.changes == 1 && gw.missed == 0)
        #expect(gw.worseHops.map(\.ttl) == [2], "\(gw.worseHops)")
        // 20 ms slower, within the quantile sketch's error.
        #expect(gw.worseHops.first.map { abs(($0.medianNow ?? 0) - ($0.medianBefore ?? 0) - 20) < 0.5 } == true)
        #expect(gw.worseHops.first?.address == "10.0.0.2 | 10.0.0.12")
        #expect(gw.lossNow == 5 && gw.lossBefore == 5)
        #expect(d.targets[1].worseHops.isEmpty && d.targets[1].changes == 0)
        #expect(try data(rank: "name").targets.map(\.target) == ["core/x", "lab/gw"])
        #expect(try data(rank: "hops").targets.first?.target == "lab/gw")
    }

    @Test func theSameRowsAsCSVAndOnAPrintablePage() throws {
        let csv = OutputFormat.csv.render(ReportPage.table(try data()))
        let lines = csv.split(whereSeparator: \.isNewline)
        #expect(lines.first == "target,changes,loss_before,loss_now,median_before_ms,median_now_ms,worse_hops,missed")
        #expect(lines.count == 3 && lines[1].hasPrefix("lab/gw,1,5,5,") && lines[1].hasSuffix(",TTL 2 10.0.0.2 | 10.0.0.12,0"), "\(csv)")
        let end = Self.t0 + 120 * SmokeSeriesQueryTests.minute
        let html = try withStore(Self.runs()) { store in
            try PageRenderer(version: "test").render("report", try ReportPage(group: "lab", period: "day", rank: nil, endMicros: end)
                .model(snapshot: store.snapshot(), nowMicros: end))
        }
        #expect(html.contains("<a href=\"/targets/lab/gw\">lab/gw</a>") && !html.contains("core/x"), "\(html)")
        #expect(html.contains("TTL 2 10.0.0.2 | 10.0.0.12: 5.") && html.contains(" → 25.") && html.contains(" ms, loss 0 → 0 %"), "\(html)")
        #expect(html.contains("@media print"))
    }

    @Test func parametersNotUnderstoodAreNamed() {
        #expect(throws: WebUIError.self) { try ReportPage(group: nil, period: "year", rank: nil, endMicros: 0) }
        #expect(throws: WebUIError.self) { try ReportPage(group: nil, period: nil, rank: "size", endMicros: 0) }
        #expect(throws: WebUIError.self) { try ReportPage(group: "a\" or \"b", period: nil, rank: nil, endMicros: 0) }
    }
}

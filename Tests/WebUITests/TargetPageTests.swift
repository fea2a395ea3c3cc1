import Foundation
import Testing
import PathTSDB
import Query
@testable import WebUI

/// The target page on a store of known runs: the right hops, numbers, graphs and changes in
/// the HTML, and nothing a target name could inject.
@Suite struct TargetPageTests {
    static let t0 = SmokeSeriesQueryTests.t0, minute = SmokeSeriesQueryTests.minute

    /// `SmokeSeriesQueryTests.runs()`, but hop 2 answers from 10.0.0.12 from minute 60 on.
    static func runs() -> [TraceRun] {
        SmokeSeriesQueryTests.runs().enumerated().map { m, run in
            var r = run
            if m >= 60 {
                r.probes = r.probes.map { p in
                    p.ttl == 2 ? ProbeReply(ttl: 2, address: IPAddress(v4: 0x0A00_000C), rttMicros: p.rttMicros, replyTTL: 63, icmpType: 11) : p
                }
            }
            return r
        }
    }

    func page(_ runs: [TraceRun], target: String = "lab/gw", from: String? = nil, to: String? = nil) throws -> String {
        let now = Self.t0 + 120 * Self.minute
        let range = try PageRange(range: "3h", from: from, to: to, nowMicros: now)
        let model = try withStore(runs) { try TargetPage(target: target, range: range).model(snapshot: $0.snapshot(), nowMicros: now) }
        return try PageRenderer(version: "test").render("target", model)
    }

    @Test func theHopsTheirNumbersTheSmokeAndTheChangeAreOnThePage() throws {
        let html = try page(Self.runs())
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<title>lab/gw · SmokeTrace</title>"))
        // Every address that answered, by TTL: hop 2 before and after the change.
        for address in ["10.0.0.1", "10.0.0.2", "10.0.0.12", "198.51.100.1"] { #expect(html.contains("<td>\(address)</td>"), "\(address)") }
        // The destination's row: 1,200 probes, 5 % lost (one of ten in the second hour), median
        // 24 ms (the RTTs are 20–29 ms).
        #expect(html.contains("<td>3</td><td>198.51.100.1</td><td class=\"name\"></td><td>1200</td><td>5</td><td>24</td>"), "\(html)")
        // The path timeline, the two heatmaps and one smoke graph per TTL, each an accessible
        // SVG, the change marked on each.
        #expect(html.components(separatedBy: "<svg ").count - 1 == 6)
        #expect(html.components(separatedBy: "role=\"img\"").count - 1 == 6)
        #expect(html.contains("1 path change") && html.contains("2 stretches on 2 paths"))
        #expect(html.components(separatedBy: "class=\"change\"").count - 1 == 6)
        #expect(html.contains("<td>2</td>"))   // the change's first differing TTL
        // The 3-hour preset is the current one, the others are links.
        #expect(html.contains("href=\"/targets/lab/gw?range=3h\" aria-current=\"page\"") && html.contains("href=\"/targets/lab/gw?range=1y\""))
    }

    /// The change's diff: hop 2 moved from 10.0.0.2 to 10.0.0.12, highlighted and named, with
    /// each side's numbers from the runs on that path; the other hops the same.
    @Test func theDiffOfTheChangeHighlightsTheHopThatMoved() throws {
        let now = Self.t0 + 120 * Self.minute
        let html = try withStore(Self.runs()) { store -> String in
            let snap = store.snapshot()
            let change = try #require(snap.events(in: Int64.min..<Int64.max).events.first)
            let range = try PageRange(range: "3h", from: nil, to: nil, nowMicros: now)
            let model = try DiffPage(target: "lab/gw", old: change.oldPath, new: change.newPath, range: range).model(snapshot: snap, nowMicros: now)
            // And the target page links to it.
            let target = try PageRenderer(version: "test").render("target", try TargetPage(target: "lab/gw", range: range).model(snapshot: snap, nowMicros: now))
            #expect(target.contains("href=\"/diff?target=lab%2Fgw&amp;old=\(change.oldPath.rawValue)&amp;new=\(change.newPath.rawValue)\""), "\(target)")
            return try PageRenderer(version: "test").render("diff", model)
        }
        #expect(html.contains("<tr class=\"changed\"><td>2</td><td>10.0.0.2</td><td>10.0.0.12</td><td>changed</td>"), "\(html)")
        #expect(html.contains("<tr class=\"same\"><td>1</td><td>10.0.0.1</td><td>10.0.0.1</td><td>same</td>"))
        // 60 runs on each path; the destination lost nothing before and one in ten after.
        #expect(html.contains("60 on the old path, 60 on the new"))
        #expect(html.contains("<td>3</td><td>198.51.100.1</td><td>198.51.100.1</td><td>same</td><td>0</td><td>10</td>"), "\(html)")
        #expect(throws: WebUIError.self) {
            try withStore(Self.runs()) { store in
                try DiffPage(target: "lab/gw", old: PathID(rawValue: 999), new: PathID(rawValue: 1), range: PageRange(fromMicros: 0, toMicros: now, preset: nil))
                    .model(snapshot: store.snapshot(), nowMicros: now)
            }
        }
    }

    /// The page's data, as its JSON form gives it: the numbers the HTML shows, unformatted.
    @Test func theDataFormHoldsWhatThePageShows() throws {
        let now = Self.t0 + 120 * Self.minute
        let range = try PageRange(range: "3h", from: nil, to: nil, nowMicros: now)
        let (data, change) = try withStore(Self.runs()) { store in
            (try TargetPage(target: "lab/gw", range: range).data(snapshot: store.snapshot(), nowMicros: now),
             try #require(store.snapshot().events(in: Int64.min..<Int64.max).events.first))
        }
        let destination = try #require(data.hops.first { $0.address == "198.51.100.1" })
        #expect(destination.ttl == 3 && destination.probes == 1200 && destination.loss == 5 && destination.median == 24, "\(destination)")
        #expect(Set(data.hops.filter { $0.ttl == 2 }.compactMap(\.address)) == ["10.0.0.2", "10.0.0.12"])
        #expect(data.changes.count == 1 && data.changes[0].ttl == 2 && data.changes[0].oldPath == change.oldPath.rawValue)
        #expect(data.changes[0].time == RFC3339.format(micros: change.timeMicros))
        #expect(data.timeline.map(\.path) == [change.oldPath.rawValue, change.newPath.rawValue])
        #expect(data.smoke.map(\.ttl) == [1, 2, 3] && data.smoke.allSatisfy { $0.stepSeconds == 60 })
        let json = try PageJSON.encode(data)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(decoded["target"] as? String == "lab/gw" && (decoded["smoke"] as? [[String: Any]])?.first?["step_seconds"] as? Int == 60)
    }

    /// Two days and more: a row per TTL from the hourly rollups (the same counts and loss as the
    /// raw rows summed), the addresses of the path in use at the end, no jitter.
    @Test func aLongRangeShowsEachTTLFromRollupsWithTheCurrentPath() throws {
        let now = Self.t0 + 120 * Self.minute
        let (long, short) = try withStore(Self.runs()) { store in
            (try TargetPage(target: "lab/gw", range: try PageRange(range: "7d", from: nil, to: nil, nowMicros: now)).data(snapshot: store.snapshot(), nowMicros: now),
             try TargetPage(target: "lab/gw", range: try PageRange(range: "3h", from: nil, to: nil, nowMicros: now)).data(snapshot: store.snapshot(), nowMicros: now))
        }
        #expect(long.hops.map(\.ttl) == [1, 2, 3])
        #expect(long.hops.map(\.address) == ["10.0.0.1", "10.0.0.12", "198.51.100.1"])   // hop 2 moved at minute 60
        #expect(long.hops.allSatisfy { $0.jitter == nil })
        for ttl in 1...3 {
            let raw = short.hops.filter { $0.ttl == ttl }
            #expect(long.hops.first { $0.ttl == ttl }?.probes == raw.reduce(0) { $0 + $1.probes })
        }
        // The median from the rollups' quantile sketch: within its relative error of the exact 24.
        #expect(long.hops.first { $0.ttl == 3 }?.loss == 5 && long.hops.first { $0.ttl == 3 }.map { abs(($0.median ?? 0) - 24) < 0.5 } == true)
        let html = try withStore(Self.runs()) { store in
            try PageRenderer(version: "test").render("target", try TargetPage(target: "lab/gw", range: try PageRange(range: "7d", from: nil, to: nil, nowMicros: now))
                .model(snapshot: store.snapshot(), nowMicros: now))
        }
        #expect(html.contains("from the hourly rollups") && html.contains("<td>2</td><td>10.0.0.12</td>"))
    }

    /// A page's queries stop at its deadline, as the API's do (the server answers 503).
    @Test func aPageGivesUpAtItsDeadline() throws {
        let now = Self.t0 + 120 * Self.minute
        try withStore(Self.runs()) { store in
            var page = TargetPage(target: "lab/gw", range: try PageRange(range: "3h", from: nil, to: nil, nowMicros: now))
            page.deadline = .now - .seconds(1)
            #expect { try page.data(snapshot: store.snapshot(), nowMicros: now) } throws: { ($0 as? QueryError)?.code == .timeout }
            var report = try ReportPage(group: nil, period: "week", rank: nil, endMicros: now)
            report.deadline = .now - .seconds(1)
            #expect { try report.data(snapshot: store.snapshot(), nowMicros: now) } throws: { ($0 as? QueryError)?.code == .timeout }
        }
    }

    /// Moving and zooming by links: the same span earlier and later, the middle half, twice the
    /// span; and each interval of the timeline's time axis a link to that interval.
    @Test func linksMoveAndZoomTheRange() throws {
        let hour: Int64 = 3_600_000_000
        func time(_ t: Int64) -> String { RFC3339.format(micros: t) }
        func link(_ from: Int64, _ to: Int64) -> String {
            "/targets/lab/gw?from=\(PagePath.escapeComponent(time(from)))&amp;to=\(PagePath.escapeComponent(time(to)))"
        }
        let t0 = Self.t0
        let html = try page(Self.runs(), from: time(t0), to: time(t0 + 2 * hour))
        #expect(html.contains("<a href=\"\(link(t0 - 2 * hour, t0))\">← earlier</a>"), "\(html)")
        #expect(html.contains("<a href=\"\(link(t0 + hour / 2, t0 + 3 * hour / 2))\">zoom in</a>"))
        #expect(html.contains("<a href=\"\(link(t0 - hour, t0 + 3 * hour))\">zoom out</a>"))
        #expect(html.contains("<a href=\"\(link(t0 + 2 * hour, t0 + 4 * hour))\">later →</a>"))
        // The timeline's intervals between ticks, each a link to itself: the first from the start.
        #expect(html.components(separatedBy: "<rect class=\"zoom\"").count - 1 >= 4)
        #expect(html.contains("<a href=\"/targets/lab/gw?from=\(PagePath.escapeComponent(time(t0)))&amp;to="))
        #expect(try PageRange(range: "3h", from: nil, to: nil, nowMicros: 0).query == "range=3h")
    }

    @Test func aRangeWithoutRunsSaysSoAndAnUnknownTargetIsAnError() throws {
        let html = try page(Self.runs(), from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z")
        #expect(html.contains("No runs of lab/gw in this range."))
        #expect(!html.contains("<svg "))
        #expect(throws: QueryError.self) { try page(Self.runs(), target: "lab/other") }
    }

    @Test func aHostileNameIsEscapedEverywhere() throws {
        var runs = Self.runs()
        for i in runs.indices { runs[i].target = "lab/<img src=x onerror=alert(1)>" }
        let html = try page(runs, target: "lab/<img src=x onerror=alert(1)>")
        #expect(!html.contains("<img"))
        #expect(html.contains("lab/&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("/targets/lab/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E?range=1d"))
    }

    @Test func rangesAreReadOrRefusedWithTheirCause() throws {
        let now = Self.t0
        #expect(try PageRange(range: nil, from: nil, to: nil, nowMicros: now) == PageRange(fromMicros: now - 86_400_000_000, toMicros: now, preset: "1d"))
        let custom = try PageRange(range: nil, from: "2026-12-07T12:00:00Z", to: "2026-12-07T18:00:00Z", nowMicros: now)
        #expect(custom.toMicros - custom.fromMicros == 6 * 3_600_000_000 && custom.preset == nil)
        #expect(throws: WebUIError.self) { try PageRange(range: "2w", from: nil, to: nil, nowMicros: now) }
        #expect(throws: WebUIError.self) { try PageRange(range: nil, from: "yesterday", to: "2026-12-07T18:00:00Z", nowMicros: now) }
        #expect(throws: WebUIError.self) { try PageRange(range: nil, from: "2026-12-07T18:00:00Z", to: "2026-12-07T12:00:00Z", nowMicros: now) }
    }
}

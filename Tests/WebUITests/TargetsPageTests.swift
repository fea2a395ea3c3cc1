import Foundation
import Testing
import PathTSDB
@testable import WebUI

/// The overview: every stored target, grouped, with its state over the last 24 hours, filtered
/// and sorted by links.
@Suite struct TargetsPageTests {
    static let now = TargetPageTests.t0 + 120 * TargetPageTests.minute

    /// lab/gw changes path half-way and loses 5 % at the destination; core/x is stable.
    static func runs() -> [TraceRun] {
        TargetPageTests.runs() + SmokeSeriesQueryTests.runs().prefix(60).map { run in
            var r = run
            r.target = "core/x"
            r.probes = r.probes.map { $0.address == nil ? ProbeReply(ttl: $0.ttl, address: r.destination, rttMicros: 20_000, replyTTL: 62) : $0 }
            return r
        }
    }

    func page(filter: String? = nil, changed: Bool = false, sort: String? = nil) throws -> String {
        try withStore(Self.runs()) { store in
            try PageRenderer(version: "test").render("targets", try TargetsPage(filter: filter, onlyChanged: changed, sort: sort)
                .model(snapshot: store.snapshot(), nowMicros: Self.now))
        }
    }

    @Test func everyTargetWithItsStateUnderItsGroup() throws {
        let html = try page()
        #expect(html.contains(">core</th>") && html.contains(">lab</th>"))
        #expect(html.contains("<a href=\"/targets/lab/gw\">lab/gw</a></td><td>changed</td><td>1</td><td>5</td><td>120</td>"), "\(html)")
        #expect(html.contains("<a href=\"/targets/core/x\">core/x</a></td><td>stable</td><td>0</td><td>0</td><td>60</td>"), "\(html)")
        // Sorted by name: core before lab; the name column marked as the sort.
        #expect(try #require(html.range(of: "core/x")).lowerBound < (try #require(html.range(of: "lab/gw")).lowerBound))
        #expect(html.contains("href=\"/targets?sort=name\">target</a> ↓"))
    }

    @Test func filteredByNameOrChangeAndSortedByAnyColumn() throws {
        let changed = try page(changed: true)
        #expect(changed.contains("lab/gw") && !changed.contains("core/x") && changed.contains(" checked"))
        let filtered = try page(filter: "CORE")
        #expect(filtered.contains("core/x") && !filtered.contains(">lab/gw<"))
        #expect(filtered.contains("href=\"/targets?sort=loss&amp;filter=CORE\""))
        let byLoss = try page(sort: "loss")
        #expect(try #require(byLoss.range(of: ">lab/gw<")).lowerBound < (try #require(byLoss.range(of: ">core/x<")).lowerBound))
        #expect(try page(filter: "nothing-like-it").contains("No target matches."))
    }

    @Test func theDataFormListsTheRowsInThePagesOrder() throws {
        let data = try withStore(Self.runs()) { store in
            try TargetsPage(filter: nil, onlyChanged: false, sort: "loss").data(snapshot: store.snapshot(), nowMicros: Self.now)
        }
        #expect(data.targets.map(\.name) == ["lab/gw", "core/x"] && data.sort == "loss")
        #expect(data.targets[0] == TargetsPage.Row(name: "lab/gw", group: "lab", changes: 1, loss: 5, runs: 120))
        #expect(data.targets[1].state == "stable" && data.targets[1].loss == 0)
    }
}

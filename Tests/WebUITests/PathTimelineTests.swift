import Foundation
import Testing
@testable import WebUI

/// The path timeline: the stretches changes cut a range into, a colour per path (the same path
/// the same colour), and a marker per change.
@Suite struct PathTimelineTests {
    static let h: Int64 = 3_600_000_000

    @Test func changesCutTheRangeIntoStretchesAndAFlapBackKeepsItsColour() throws {
        let changes: [(time: Int64, old: UInt32, new: UInt32)] = [(2 * Self.h, 4, 9), (5 * Self.h, 9, 4)]
        let stretches = PathTimeline.stretches(from: 0, to: 8 * Self.h, changes: changes, current: nil)
        #expect(stretches == [.init(fromMicros: 0, toMicros: 2 * Self.h, path: 4), .init(fromMicros: 2 * Self.h, toMicros: 5 * Self.h, path: 9),
                              .init(fromMicros: 5 * Self.h, toMicros: 8 * Self.h, path: 4)])
        let marks = changes.map { ChartMark(timeMicros: $0.time, kind: .pathChange(link: "/diff?old=\($0.old)&new=\($0.new)"), note: "change") }
        let doc = try SmokeChartTests.parse(PathTimeline(title: "t", fromMicros: 0, toMicros: 8 * Self.h, stretches: stretches, marks: marks).svg())
        let bands = doc.found.filter { $0.attributes["class"] == "band" }
        #expect(bands.count == 3)
        #expect(bands[0].attributes["fill"] == bands[2].attributes["fill"] && bands[0].attributes["fill"] != bands[1].attributes["fill"])
        #expect(doc.found.filter { $0.name == "a" }.map { $0.attributes["href"] ?? "" } == ["/diff?old=4&new=9", "/diff?old=9&new=4"])
        #expect(doc.text.contains("3 stretches on 2 paths"))
    }

    @Test func withoutChangesTheCurrentPathFillsTheRange() {
        #expect(PathTimeline.stretches(from: 0, to: Self.h, changes: [], current: 7) == [.init(fromMicros: 0, toMicros: Self.h, path: 7)])
        #expect(PathTimeline.stretches(from: 0, to: Self.h, changes: [], current: nil).isEmpty)
    }
}

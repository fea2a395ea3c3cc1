import PathTSDB
import Testing

@testable import Query

/// Selections written as options (the export, `/paths`, `/changes`) read as the same query on
/// the command line and over HTTP.
@Suite struct QuerySelectionTests {
    @Test func aSelectionIsTheQueryOfItsParts() throws {
        let s = QuerySelection(targets: ["core/gw"], groups: ["edge"], from: "2026-11-20T00:00:00Z", to: "now-1h", hops: [3, 7])
        let q = try s.query(.probes)
        #expect(q.kind == .probes)
        #expect(q.targets == [.name("core/gw"), .group("edge")])
        #expect(q.range == TimeSpec(from: .absolute(1_795_132_800_000_000), to: .relative(-3_600_000_000)))
        #expect(q.hops == [.ttl(3...3), .ttl(7...7)])
        #expect(try QuerySelection().query(.paths).range == TimeSpec(from: nil, to: nil))
    }

    @Test(arguments: [("now", 0), ("-24h", -86_400_000_000), ("+1h", 3_600_000_000), ("now-1h30m", -5_400_000_000)])
    func relativeTimesCountFromTheQuerysNow(_ text: String, _ offset: Int64) {
        #expect(TimePoint(selectionText: text) == .relative(offset))
    }

    @Test func errorsNameTheFieldAsTheCallerWroteIt() {
        #expect(throws: QueryError("--from yesterday: expected an RFC 3339 time, now, or an offset such as -24h")) {
            try QuerySelection(from: "yesterday").query(.probes) { "--\($0)" }
        }
        #expect(throws: QueryError("hop= 0: expected a TTL from 1 to 255")) {
            try QuerySelection(hops: [0]).query(.changes) { "\($0)=" }
        }
        #expect(throws: QueryError("target= needs a name")) {
            try QuerySelection(targets: [""]).query(.paths) { "\($0)=" }
        }
        #expect(throws: QueryError("to -20000000w: expected an RFC 3339 time, now, or an offset such as -24h")) {
            try QuerySelection(to: "-20000000w").query(.probes)
        }
    }

    @Test func atNamesWhatRelativeTimesCountFrom() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path)
        defer { try? store.close() }
        let snap = store.snapshot()
        #expect(QueryContext.now(at: "now", snapshot: snap, wallClock: 42) == 42)
        #expect(QueryContext.now(at: "newest", snapshot: snap, wallClock: 42) == 43, "an empty store's newest is the wall clock")
        #expect(QueryContext.now(at: "2026-11-20T00:00:00Z", snapshot: snap) == 1_795_132_800_000_000)
        #expect(QueryContext.now(at: "yesterday", snapshot: snap) == nil)
    }
}

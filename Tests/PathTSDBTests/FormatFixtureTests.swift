import Foundation
import Testing
@testable import PathTSDB

/// A store written by format version 1, committed under `Fixtures/store-v1`: every later build
/// must read it back to the same runs, events and rollups. Regenerate (only with a format version
/// bump, keeping the old fixture) with `PATHTSDB_WRITE_FIXTURE=1 swift test --filter FormatFixtureTests`.
@Suite struct FormatFixtureTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/store-v1").path
    static let runs = RunFactory.runs(count: 90, seed: 2024)

    @Test func version1StoreStillReads() throws {
        if ProcessInfo.processInfo.environment["PATHTSDB_WRITE_FIXTURE"] == "1" { try writeFixture() }
        let dir = TemporaryDirectory("pathtsdb-fixture")
        defer { dir.remove() }
        try FileManager.default.removeItem(atPath: dir.path)
        try FileManager.default.copyItem(atPath: FormatFixtureTests.fixture, toPath: dir.path)
        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: dir.path, options: o)
        #expect(store.recovery.problems.isEmpty)
        #expect(store.recovery.replayedRecords == 1)  // the last 30 runs were only in the WAL
        let snap = store.snapshot()
        #expect(snap.segments.count == 1 && snap.segments[0].level == 0)
        expectSameRuns(snap.allTraceRuns(), FormatFixtureTests.runs)
        #expect(snap.events(in: Int64.min..<Int64.max).events.count == 1)
        let target = try #require(snap.catalog.targetID(named: "target-1"))
        let rows = snap.rollups(of: target, tier: .oneHour, in: Int64.min..<Int64.max).rows
        #expect(rows.reduce(0) { $0 + Int($1.sent) } == FormatFixtureTests.runs.filter { $0.target == "target-1" }.reduce(0) { $0 + $1.probes.count })
        try store.close()
    }

    func writeFixture() throws {
        try? FileManager.default.removeItem(atPath: FormatFixtureTests.fixture)
        var o = StoreOptions()
        o.walSync = .always
        let store = try PathStore(directory: FormatFixtureTests.fixture, options: o)
        try store.append(Array(FormatFixtureTests.runs[..<60]))
        try store.flush()
        try store.append(Array(FormatFixtureTests.runs[60...]))
        // Not closed: the last batch stays in the WAL, as after a crash.
        try FileManager.default.removeItem(atPath: FormatFixtureTests.fixture + "/LOCK")
    }
}

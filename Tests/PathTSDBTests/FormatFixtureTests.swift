import Foundation
import Testing
@testable import PathTSDB

/// Stores written by each segment format version, committed under `Fixtures/store-vN`: every
/// later build must read them back to the same runs, events and rollups. After a version bump,
/// write the new version's fixture (keeping the old ones) with
/// `PATHTSDB_WRITE_FIXTURE=1 swift test --filter FormatFixtureTests`.
@Suite struct FormatFixtureTests {
    static func fixture(version: UInt16) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/store-v\(version)").path
    }
    /// The runs of the fixture of `version`: from version 5 on, two of the segment's and two of
    /// the write-ahead log's are mtr reports and interrupted traces.
    static func runs(version: UInt16) -> [TraceRun] {
        var runs = RunFactory.runs(count: 90, seed: 2024)
        guard version >= SegmentFormat.reportVersion else { return runs }
        for i in [10, 70] { runs[i] = RunFactory.report(of: runs[i]) }
        for i in [20, 80] { runs[i] = RunFactory.interrupted(runs[i], after: 2) }
        return runs
    }

    /// A temporary copy of the committed store of `version`, for a test to open and change.
    static func copy(version: UInt16) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("pathtsdb-fixture-v\(version)")
        try FileManager.default.removeItem(atPath: dir.path)
        try copyTree(fixture(version: version), to: dir.path)
        return dir
    }

    @Test(arguments: SegmentFormat.readableVersions)
    func storeOfEveryVersionStillReads(version: UInt16) throws {
        if version == SegmentFormat.version && ProcessInfo.processInfo.environment["PATHTSDB_WRITE_FIXTURE"] == "1" {
            try writeFixture()
        }
        let dir = try FormatFixtureTests.copy(version: version)
        defer { dir.remove() }
        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: dir.path, options: o)
        #expect(store.recovery.problems.isEmpty)
        #expect(store.recovery.replayedRecords == 1)  // the last 30 runs were only in the WAL
        let snap = store.snapshot()
        #expect(snap.segments.count == 1 && snap.segments[0].level == 0 && snap.segments[0].version == version)
        let runs = FormatFixtureTests.runs(version: version)
        expectSameRuns(snap.allTraceRuns(), runs)
        #expect(snap.events(in: Int64.min..<Int64.max).events.count == 1)
        let target = try #require(snap.catalog.targetID(named: "target-1"))
        let rows = snap.rollups(of: target, tier: .oneHour, in: Int64.min..<Int64.max).rows
        #expect(rows.reduce(0) { $0 + Int($1.sent) } == runs.filter { $0.target == "target-1" }.reduce(0) { $0 + $1.probes.count })
        try store.close()
    }

    func writeFixture() throws {
        let fixture = FormatFixtureTests.fixture(version: SegmentFormat.version)
        try? FileManager.default.removeItem(atPath: fixture)
        var o = StoreOptions()
        o.walSync = .always
        let store = try PathStore(directory: fixture, options: o)
        let runs = FormatFixtureTests.runs(version: SegmentFormat.version)
        try store.append(Array(runs[..<60]))
        try store.flush()
        try store.append(Array(runs[60...]))
        // Not closed: the last batch stays in the WAL, as after a crash.
        try FileManager.default.removeItem(atPath: fixture + "/LOCK")
    }
}

/// Files of version 1 that a newer record arrives in are marked version 2 in place, and every
/// record, old and new, reads back.
@Suite struct InPlaceVersionMarkTests {
    @Test func aVersion1CatalogAndMissedFileBecomeVersion2WhenTheyNeedIt() throws {
        let dir = try FormatFixtureTests.copy(version: 3)
        defer { dir.remove() }
        #expect(fileBytes(dir.path + "/catalog.ptc")[4] == 1 && fileBytes(dir.path + "/missed.ptm")[4] == 1)
        var o = StoreOptions()
        o.walSync = .never
        var store = try PathStore(directory: dir.path, options: o)
        let pathsBefore = store.snapshot().catalog.paths.count
        // A classic run that heard two addresses at TTL 1: a load-balanced path (record kind 5).
        let a = IPAddress(v4: 0x0A00_0001), b = IPAddress(v4: 0x0A00_0002), d = IPAddress(v4: 0x0A00_0009)
        let start: Int64 = 1_796_000_000_000_000
        try store.append([TraceRun(target: "classic", vantage: "v", method: .udp, flowID: 0, startMicros: start, endMicros: start + 1,
                                   destination: d, reached: true,
                                   probes: [ProbeReply(ttl: 1, address: a, rttMicros: 10), ProbeReply(ttl: 1, address: b, rttMicros: 11),
                                            ProbeReply(ttl: 2, address: d, rttMicros: 20)])])
        try store.recordMissed([MissedSlot(target: "classic", vantage: "v", slotMicros: start, reason: .failed, detail: "no such tool")])
        try store.close()
        #expect(fileBytes(dir.path + "/catalog.ptc")[4] == 2 && fileBytes(dir.path + "/missed.ptm")[4] == 2)
        store = try PathStore(directory: dir.path, options: o)
        let snap = store.snapshot()
        #expect(store.recovery.problems.isEmpty)
        #expect(snap.catalog.paths.count > pathsBefore && snap.catalog.paths.contains { $0.isLoadBalanced })
        #expect(snap.missedSlots.last == MissedSlot(target: "classic", vantage: "v", slotMicros: start, reason: .failed, detail: "no such tool"))
        expectSameRuns(snap.allTraceRuns().filter { $0.target != "classic" }, FormatFixtureTests.runs(version: 3))
        try store.close()
    }
}

import Testing
@testable import PathTSDB

func appendInBatches(_ runs: [TraceRun], to store: PathStore, size: Int = 30) throws {
    for start in stride(from: 0, to: runs.count, by: size) { try store.append(Array(runs[start..<min(start + size, runs.count)])) }
}

@Suite struct MaintenanceTests {
    func options() -> StoreOptions {
        var o = StoreOptions()
        o.walSync = .never
        o.headCutProbes = 2000
        o.backgroundCuts = false  // the tests count segments
        o.compactionWindows = [.seconds(3600), .seconds(4 * 3600)]
        o.zstdLevelCompacted = 3
        return o
    }

    @Test func compactionMergesClosedWindowsAndKeepsEveryRun() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        let runs = RunFactory.runs(count: 3 * 60 * 10)  // 10 hours
        try appendInBatches(runs, to: store)
        try store.flush()
        let before = store.snapshot()
        let eventsBefore = before.events(in: Int64.min..<Int64.max).events
        #expect(before.segments.count > 10)
        let written = try store.compact()
        #expect(written > 0)
        let after = store.snapshot()
        #expect(after.segments.count < before.segments.count)
        #expect(after.segments.contains { $0.level == 2 })
        expectSameRuns(after.allTraceRuns(), runs)
        #expect(after.events(in: Int64.min..<Int64.max).events == eventsBefore)
        // Merged rollups are exactly those of the merged raw data.
        for (id, _) in after.catalog.targets {
            let (table, _) = after.runs(of: id, in: Int64.min..<Int64.max)
            let fromRaw = RollupBuilder.rows(target: id, runs: table.runs, probes: table.probes, tiers: RollupTier.storedWithSegments)
            let stored = RollupTier.storedWithSegments.flatMap { after.rollups(of: id, tier: $0, in: Int64.min..<Int64.max, endToEnd: true).rows }
            #expect(stored.count == fromRaw.count && Set(stored) == Set(fromRaw))
        }
        // Still true after a reopen: the merged inputs are gone from disk.
        try store.close()
        let again = try PathStore(directory: dir.path, options: options())
        #expect(files(in: dir.path + "/segments").count == again.snapshot().segments.count)
        expectSameRuns(again.snapshot().allTraceRuns(), runs)
        try again.close()
    }

    @Test func inputsLeftByAnInterruptedCompactionAreRemovedOnOpen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 3 * 60 * 6)
        var inputs = [(String, [UInt8])]()
        do {
            let store = try PathStore(directory: dir.path, options: options())
            try appendInBatches(runs, to: store)
            try store.flush()
            inputs = files(in: dir.path + "/segments").map { ($0, fileBytes(dir.path + "/segments/" + $0)) }
            try store.compact()
            try store.close()
        }
        // Only the segments compaction replaced are leftovers; those of the still-open window live on.
        let survivors = Set(files(in: dir.path + "/segments"))
        inputs.removeAll { survivors.contains($0.0) }
        #expect(inputs.count >= 4)
        // Put the inputs back, as if the process had died between writing the merged segment and
        // removing them.
        for (name, bytes) in inputs { writeFileBytes(bytes, dir.path + "/segments/" + name) }
        let store = try PathStore(directory: dir.path, options: options())
        #expect(store.recovery.removedLeftovers.count == inputs.count)
        expectSameRuns(store.snapshot().allTraceRuns(), runs)
        try store.close()
    }

    @Test func retentionDropsRawDataOnlyAfterWritingItsRollups() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var o = options()
        o.rawRetention = .seconds(3600)
        let store = try PathStore(directory: dir.path, options: o)
        let runs = RunFactory.runs(count: 3 * 60 * 6)
        try appendInBatches(runs, to: store)
        try store.flush()
        let snap = store.snapshot()
        let target = try #require(snap.catalog.targetID(named: "target-2"))
        let start = runs[0].startMicros / 3_600_000_000 * 3_600_000_000
        let hourly = try snap.hopStatistics(target: target, range: start..<start + 4 * 3_600_000_000, stepMicros: 3_600_000_000, quantiles: [0.5, 0.95], source: .raw)
        let fiveMin = try snap.hopStatistics(target: target, range: start..<start + 4 * 3_600_000_000, stepMicros: 300_000_000, quantiles: [0.5], source: .raw)

        let now = runs.last!.startMicros
        let dropped = try store.applyRetention(now: now)
        #expect(dropped > 0)
        let after = store.snapshot()
        #expect(!after.rollupFiles.isEmpty)
        #expect(after.allTraceRuns().allSatisfy { $0.startMicros >= now - 3_600_000_000 - 3_600_000_000 })
        // The hours whose raw data is gone are still answered from rollups, with the same counts.
        let fromRollups = try after.hopStatistics(target: target, range: start..<start + 4 * 3_600_000_000, stepMicros: 3_600_000_000, quantiles: [0.5, 0.95], source: .rollup)
        #expect(fromRollups.rows.map(\.sent) == hourly.rows.map(\.sent))
        #expect(fromRollups.rows.map(\.lost) == hourly.rows.map(\.lost))
        let rows5 = after.rollups(of: target, tier: .fiveMinutes, in: start..<start + 4 * 3_600_000_000).rows
        #expect(rows5.reduce(0) { $0 + Int($1.sent) } == fiveMin.rows.reduce(0) { $0 + Int($1.sent) })
        try store.close()

        // A retention step interrupted after the rollup file was written: the raw segment comes
        // back on disk, and opening removes it instead of counting its hours twice.
        let reopened = try PathStore(directory: dir.path, options: o)
        #expect(reopened.snapshot().rollupFiles.count == after.rollupFiles.count)
        try reopened.close()
    }
}

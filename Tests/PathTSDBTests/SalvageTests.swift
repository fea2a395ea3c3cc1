import Foundation
import Testing
@testable import PathTSDB

/// A segment with damaged blocks costs what those blocks held: the rest of it is rewritten into
/// a new segment and the original quarantined with a record of what was lost.
@Suite struct SalvageTests {
    func options(verify: Bool = true) -> StoreOptions {
        var o = StoreOptions()
        o.walSync = .never
        o.verifySegmentsOnOpen = verify
        return o
    }

    /// 600 runs of three targets in two segments, written and closed.
    func twoSegments(_ dir: String, runs: [TraceRun]) throws {
        let store = try PathStore(directory: dir, options: options())
        try store.append(Array(runs[..<300]))
        try store.flush()
        try store.append(Array(runs[300...]))
        try store.close()
    }

    /// Flips one byte in the middle of `range` of the file at `path`.
    func flip(_ path: String, inside range: Range<Int64>) {
        var bytes = fileBytes(path)
        bytes[Int(range.lowerBound + (range.upperBound - range.lowerBound) / 2)] ^= 0x10
        writeFileBytes(bytes, path)
    }

    /// The oldest segment, its catalog, and the id of `target` in it.
    func oldestSegment(_ dir: String, target: String) throws -> (Segment, Catalog, TargetID) {
        let store = try PathStore(readingOnly: dir, options: options())
        let snap = store.snapshot()
        let seg = try #require(snap.segments.first)
        return (seg, snap.catalog, try #require(snap.catalog.targetID(named: target)))
    }

    /// Two segments of 600 runs with one byte flipped in `target`'s chunk of the older one: the
    /// runs written, that segment as it was, and the chunk's index entry.
    func damagedChunk(of target: String, in dir: String) throws -> (runs: [TraceRun], segment: Segment, entry: SegmentTargetEntry) {
        let runs = RunFactory.runs(count: 600)
        try twoSegments(dir, runs: runs)
        let (seg, _, victim) = try oldestSegment(dir, target: target)
        let entry = try #require(seg.entry(for: victim))
        flip(seg.path, inside: entry.chunkOffset..<(entry.chunkOffset + Int64(entry.chunkLength)))
        return (runs, seg, entry)
    }

    /// The runs but `target`'s in `entry`'s span.
    func runs(_ runs: [TraceRun], without target: String, in entry: SegmentTargetEntry) -> [TraceRun] {
        runs.filter { !($0.target == target && (entry.minStartMicros...entry.maxStartMicros).contains($0.startMicros)) }
    }

    @Test func aDamagedChunkCostsOnlyItsTargetsRunsOfTheSegment() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (runs, seg, entry) = try damagedChunk(of: "target-1", in: dir.path)
        let victim = entry.target
        let lostSpan = entry.minStartMicros...entry.maxStartMicros
        let rollupsBefore = try seg.rollups(of: victim)  // the flip is in the chunk, not here

        let store = try PathStore(directory: dir.path, options: options())
        let name = (seg.path as NSString).lastPathComponent
        #expect(store.recovery.quarantined == [dir.path + "/quarantine/" + name])
        #expect(store.recovery.problems.first?.file == seg.path && store.recovery.problems.first?.offset == entry.chunkOffset)
        // Every run but target-1's of the damaged segment is still answered.
        let kept = self.runs(runs, without: "target-1", in: entry)
        #expect(kept.count < runs.count && kept.count > runs.count * 3 / 4)
        expectSameRuns(store.snapshot().allTraceRuns(), kept)
        // Its rollup rows of the span go with its runs (kept alone, they would count twice once
        // the runs are stored again); the other targets' rows stay.
        let (rows, problems) = store.snapshot().rollups(of: victim, tier: .oneHour, in: Int64.min..<lostSpan.upperBound, endToEnd: true)
        #expect(problems.isEmpty && rows.allSatisfy { $0.bucketMicros >= lostSpan.upperBound / 3_600_000_000 * 3_600_000_000 }, "\(rows)")
        let other = try #require(store.snapshot().catalog.targetID(named: "target-0"))
        #expect(!store.snapshot().rollups(of: other, tier: .oneHour, in: Int64.min..<lostSpan.upperBound).rows.isEmpty)
        // Storing the lost runs again (an import run again) makes the store whole.
        let result = try store.appendReporting(runs)
        #expect(result.duplicates.count == kept.count)
        expectSameRuns(store.snapshot().allTraceRuns(), runs)
        let lastHour = lostSpan.upperBound / 3_600_000_000 * 3_600_000_000
        #expect(store.snapshot().rollups(of: victim, tier: .oneHour, in: Int64.min..<lastHour).rows.map(\.sent)
                == rollupsBefore.filter { $0.tier == .oneHour && $0.ttl != 0 && $0.bucketMicros < lastHour }
                    .sorted { ($0.ttl, $0.bucketMicros) < ($1.ttl, $1.bucketMicros) }.map(\.sent))

        let q = try #require(store.quarantinedFiles.first)
        #expect(store.quarantinedFiles.count == 1)
        #expect(q.targets == ["target-1"] && q.timeRange == lostSpan, "\(q.summary)")
        let replacement = try #require(store.snapshot().segments.first { $0.minStartMicros <= lostSpan.lowerBound })
        #expect(q.salvagedInto == "segments/" + (replacement.path as NSString).lastPathComponent)
        #expect(q.summary.contains("of 1 target (target-1) lost; everything else it held is in segments/"), "\(q.summary)")
        #expect(q.cause?.contains("checksum mismatch") == true)
        try store.close()

        // Opened again, nothing more is lost or moved.
        let again = try PathStore(directory: dir.path, options: options())
        #expect(again.recovery.problems.isEmpty && again.recovery.quarantined.isEmpty)
        expectSameRuns(again.snapshot().allTraceRuns(), runs)
        try again.close()
    }

    /// Found while a query reads (no check on open): the next snapshot holds the salvage.
    @Test func aChunkFoundDamagedByAQueryIsSalvagedForTheNextOne() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (runs, seg, entry) = try damagedChunk(of: "target-0", in: dir.path)
        let victim = entry.target

        let store = try PathStore(directory: dir.path, options: options(verify: false))
        #expect(store.recovery.problems.isEmpty)
        let (_, problems) = store.snapshot().runs(of: victim, in: Int64.min..<Int64.max)
        #expect(problems.count == 1 && problems.first?.file == seg.path)
        let kept = self.runs(runs, without: "target-0", in: entry)
        expectSameRuns(store.snapshot().allTraceRuns(), kept)
        #expect(store.quarantinedFiles.map(\.targets) == [["target-0"]])
        try store.close()
    }

    /// Found while appending (a batch compared with the stored runs), with the writer lock held:
    /// set aside in the same step, without waiting on the lock it holds.
    @Test func aChunkFoundDamagedByAnAppendIsSalvagedWithoutDeadlock() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (runs, seg, _) = try damagedChunk(of: "target-2", in: dir.path)

        let store = try PathStore(directory: dir.path, options: options(verify: false))
        // A run older than the newest stored is compared with what the store holds of its span.
        let again = try #require(runs.first { $0.target == "target-2" })
        _ = try store.appendReporting([again])
        #expect(store.quarantinedFiles.map(\.targets) == [["target-2"]])
        #expect(!store.snapshot().segments.contains { $0.path == seg.path })
        try store.close()
    }

    @Test func aDamagedEventsBlockCostsOnlyTheEvents() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 600)
        try twoSegments(dir.path, runs: runs)
        let reader = try PathStore(readingOnly: dir.path, options: options())
        let seg = try #require(reader.snapshot().segments.first { (try? $0.events().isEmpty) == false })
        flip(seg.path, inside: seg.index.eventsOffset..<(seg.index.eventsOffset + Int64(seg.index.eventsLength)))

        let store = try PathStore(directory: dir.path, options: options())
        expectSameRuns(store.snapshot().allTraceRuns(), runs)
        let q = try #require(store.quarantinedFiles.first)
        #expect(q.targets.isEmpty && q.timeRange == nil && q.alsoLost == ["path-change events"], "\(q.summary)")
        #expect(q.summary.contains(": no runs lost; also lost: path-change events; everything else it held is in segments/"), "\(q.summary)")
        try store.close()
    }

    /// A rollup block that does not read beside runs that do is rebuilt from them: nothing lost.
    @Test func aDamagedRollupBlockIsRebuiltFromItsRuns() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 600)
        try twoSegments(dir.path, runs: runs)
        let (seg, _, victim) = try oldestSegment(dir.path, target: "target-0")
        let entry = try #require(seg.entry(for: victim))
        let before = try seg.rollups(of: victim)
        flip(seg.path, inside: entry.rollupOffset..<(entry.rollupOffset + Int64(entry.rollupLength)))

        let store = try PathStore(directory: dir.path, options: options())
        expectSameRuns(store.snapshot().allTraceRuns(), runs)
        let replacement = try #require(store.snapshot().segments.first)
        #expect(try replacement.rollups(of: victim) == before)
        #expect(store.quarantinedFiles.first?.summary.contains(": no runs lost; everything else it held is in segments/") == true)
        try store.close()
    }

    /// The options of a store whose raw data retention retires after an hour.
    func retiring() -> StoreOptions {
        var o = options()
        o.rawRetention = .seconds(3600)
        return o
    }

    /// A store whose 300 runs were retired into one rollup-only file, with target-0's rollup
    /// block of it damaged: its path, the file open as it was before, the catalog.
    func damagedRollupFile(_ dir: String) throws -> (path: String, file: Segment, catalog: Catalog) {
        do {
            let store = try PathStore(directory: dir, options: retiring())
            try store.append(RunFactory.runs(count: 300))
            try store.flush()
            #expect(try store.applyRetention(now: 1_796_000_000_000_000) == 1)
            try store.close()
        }
        let path = dir + "/rollups/" + (try #require(files(in: dir + "/rollups").first))
        let file = try Segment(path: path, verifyBlocks: true)
        let catalog = try CatalogFile.read(path: dir + "/catalog.ptc")
        let victim = try #require(catalog.targetID(named: "target-0"))
        let entry = try #require(file.entry(for: victim))
        flip(path, inside: entry.rollupOffset..<(entry.rollupOffset + Int64(entry.rollupLength)))
        return (path, file, catalog)
    }

    /// A rollup-only file (left by retention) keeps every target whose rollups still read.
    @Test func aRollupFileWithADamagedBlockKeepsTheOtherTargets() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (_, file, catalog) = try damagedRollupFile(dir.path)
        let victim = try #require(catalog.targetID(named: "target-0")), other = try #require(catalog.targetID(named: "target-1"))
        let kept = try file.rollups(of: other)
        let o = retiring()
        let store = try PathStore(directory: dir.path, options: o)
        let replacement = try #require(store.snapshot().rollupFiles.first)
        #expect(store.snapshot().rollupFiles.count == 1 && replacement.level == SegmentFormat.rollupOnlyLevel)
        #expect(try replacement.rollups(of: other) == kept)
        #expect(replacement.entry(for: victim) == nil)
        #expect(store.quarantinedFiles.first?.alsoLost == ["rollups of 1 target"])
        try store.close()
    }

    /// A crash after the salvage was written but before the original moved: the next open
    /// removes the original (the salvage names it among its sources), and no run is held twice.
    @Test func aSalvageInterruptedBeforeTheMoveIsFinishedOnOpen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (runs, seg, entry) = try damagedChunk(of: "target-1", in: dir.path)
        try PathStore(directory: dir.path, options: options()).close()
        let name = (seg.path as NSString).lastPathComponent
        try FileManager.default.moveItem(atPath: dir.path + "/quarantine/" + name, toPath: seg.path)

        let store = try PathStore(directory: dir.path, options: options(verify: false))
        #expect(store.recovery.removedLeftovers == [seg.path])
        expectSameRuns(store.snapshot().allTraceRuns(),
                       self.runs(runs, without: "target-1", in: entry))
        try store.close()
    }

    /// The same for a rollup file: after a crash between its salvage and the move, the next
    /// open keeps the salvage only, and no row is counted twice.
    @Test func aRollupFileSalvageInterruptedBeforeTheMoveIsFinishedOnOpen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (path, _, catalog) = try damagedRollupFile(dir.path)
        let name = (path as NSString).lastPathComponent
        let other = try #require(catalog.targetID(named: "target-1"))
        let o = retiring()
        let before: [RollupRow]
        do {
            let store = try PathStore(directory: dir.path, options: o)
            before = store.snapshot().rollups(of: other, tier: .oneHour, in: Int64.min..<Int64.max).rows
            try store.close()
        }
        try FileManager.default.moveItem(atPath: dir.path + "/quarantine/" + name, toPath: path)
        let store = try PathStore(directory: dir.path, options: options(verify: false))
        #expect(store.recovery.removedLeftovers == [path] && store.snapshot().rollupFiles.count == 1)
        #expect(store.snapshot().rollups(of: other, tier: .oneHour, in: Int64.min..<Int64.max).rows == before)
        try store.close()
    }

    /// Compaction merges a salvaged segment with its neighbours, and the runs it kept are all
    /// in the merged segment.
    @Test func aSalvagedSegmentMergesWithItsNeighbours() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (runs, _, entry) = try damagedChunk(of: "target-1", in: dir.path)

        let store = try PathStore(directory: dir.path, options: options())
        let kept = self.runs(runs, without: "target-1", in: entry)
        expectSameRuns(store.snapshot().allTraceRuns(), kept)
        #expect(try store.compact(includeOpenWindows: true) == 1)
        #expect(store.snapshot().segments.count == 1)
        expectSameRuns(store.snapshot().allTraceRuns(), kept)
        try store.close()
    }
}

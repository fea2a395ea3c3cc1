import Synchronization
import Testing
@testable import PathTSDB

/// Every write exactly once: a run (and a missed slot) written again is kept once, wherever the
/// first copy is (head, segment, after a reopen); and `.always` acknowledges only synced runs,
/// one sync serving every batch written before it.
@Suite struct ExactlyOnceTests {
    func options(cut: Int = 1_000_000, sync: WALSyncPolicy = .never) -> StoreOptions {
        var o = StoreOptions()
        o.walSync = sync
        o.headCutProbes = cut
        o.backgroundCuts = false
        return o
    }

    @Test func aBatchWrittenTwiceIsKeptOnceFromHeadSegmentsAndAfterReopen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 300)
        do {
            let store = try PathStore(directory: dir.path, options: options(cut: 3000))
            for batch in stride(from: 0, to: 300, by: 50) {
                let first = try store.appendReporting(Array(runs[batch..<batch + 50]))
                #expect(first.duplicates.isEmpty && first.table.runs.count == 50)
            }
            // Some of the runs are in segments now, the rest in the head.
            #expect(!store.snapshot().segments.isEmpty && !store.snapshot().head.isEmpty)
            let again = try store.appendReporting(runs)
            #expect(again.duplicates == Array(0..<300) && again.table.runs.isEmpty)
            try store.close()
        }
        // After a reopen the runs are known from segments alone (close cuts the head).
        let reopened = try PathStore(directory: dir.path, options: options())
        let third = try reopened.appendReporting(Array(runs[100..<200]))
        #expect(third.duplicates.count == 100)
        expectSameRuns(reopened.snapshot().allTraceRuns(), runs)
        try reopened.close()
    }

    @Test func runsInTheWALAreKnownAfterACrash() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 60)
        do {
            let store = try PathStore(directory: dir.path, options: options())
            try store.append(runs)
            // Dropped without close: the runs are only in the WAL.
        }
        let reopened = try PathStore(directory: dir.path, options: options())
        #expect(reopened.recovery.replayedRecords == 1)
        #expect(try reopened.appendReporting(runs).duplicates.count == 60)
        #expect(reopened.snapshot().allTraceRuns().count == 60)
        try reopened.close()
    }

    @Test func onlyTheNewRunsOfAnOverlappingBatchAreStored() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        let runs = RunFactory.runs(count: 90)
        try store.append(Array(runs[30..<60]))
        // Older runs (before any held) and newer ones are new; the middle third is held; a run
        // repeated inside the batch is stored once.
        var batch = runs
        batch.append(runs[75])
        let result = try store.appendReporting(batch)
        #expect(result.duplicates == Array(30..<60) + [90])
        #expect(result.table.runs.count == 60)
        expectSameRuns(store.snapshot().allTraceRuns(), runs)
        try store.close()
    }

    @Test func aRunDiffersByVantageMethodFlowOrStart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        let run = RunFactory.runs(count: 1)[0]
        try store.append([run])
        var otherVantage = run, otherMethod = run, otherFlow = run, otherStart = run
        otherVantage.vantage = "elsewhere"
        otherMethod.method = .udpParis
        otherFlow.flowID &+= 1
        otherStart.startMicros -= 1
        otherStart.endMicros -= 1
        let result = try store.appendReporting([otherVantage, otherMethod, otherFlow, otherStart, run])
        #expect(result.duplicates == [4])
        #expect(store.snapshot().allTraceRuns().count == 5)
        try store.close()
    }

    @Test func aMissedSlotRecordedAgainIsKeptOnce() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let slots = (0..<20).map { MissedSlot(target: "t\($0 % 4)", vantage: "vp", slotMicros: 1_795_284_000_000_000 + Int64($0) * 60_000_000, reason: .failed, detail: "x") }
        do {
            let store = try PathStore(directory: dir.path, options: options())
            #expect(try store.recordMissed(slots) == 20)
            #expect(try store.recordMissed(Array(slots[5..<10])) == 0)
            var sameTimeOtherReason = slots[3]
            sameTimeOtherReason.reason = .late
            sameTimeOtherReason.detail = ""
            #expect(try store.recordMissed([sameTimeOtherReason, sameTimeOtherReason]) == 1)
            try store.close()
        }
        let reopened = try PathStore(directory: dir.path, options: options())
        #expect(try reopened.recordMissed(slots) == 0)
        #expect(reopened.snapshot().missed(in: Int64.min..<Int64.max).count == 21)
        try reopened.close()
    }

    /// The grouping itself, without threads: three records written, one round syncs them all,
    /// and waiting for the other two needs no further round.
    @Test func oneSyncRoundCoversEveryRecordWrittenBeforeIt() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let wal = WALWriter(directory: dir.path, nextSequence: WALSequence(rawValue: 1), syncPolicy: .always, fileSizeLimit: 1 << 20)
        let runs = RunFactory.runs(count: 3)
        let sequences = try runs.map { try wal.append([$0]) }
        #expect(wal.groupCommit.roundCount == 0, "with .always the writer does not sync; its callers wait")
        try wal.groupCommit.waitUntilSynced(sequences[0])
        #expect(wal.groupCommit.roundCount == 1)
        try wal.groupCommit.waitUntilSynced(sequences[2])
        try wal.groupCommit.waitUntilSynced(sequences[1])
        #expect(wal.groupCommit.roundCount == 1)
        // A rotation syncs the old file: what it held needs no round either.
        let next = try wal.append([runs[0]])
        try wal.rotate(firstSequence: wal.nextSequence)
        try wal.groupCommit.waitUntilSynced(next)
        #expect(wal.groupCommit.roundCount == 1)
        try wal.close()
    }

    /// Appenders on many threads with `.always`: every batch is stored, each append returns
    /// only once a round has synced it, and no round syncs for nothing.
    @Test func concurrentAppendsShareSyncRounds() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options(sync: .always))
        let threads = 8, batches = 40
        let runs = RunFactory.runs(count: threads * batches, targets: 3)
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<threads {
                group.addTask {
                    for b in 0..<batches {
                        #expect((try? store.append([runs[t * batches + b]]).runs.count) == 1)
                        #expect(store.groupCommit.syncedSequence.rawValue >= UInt64(b + 1), "this thread's own appends are synced")
                    }
                }
            }
        }
        #expect(store.snapshot().allTraceRuns().count == threads * batches)
        #expect(store.groupCommit.roundCount <= threads * batches)
        try store.close()
    }
}

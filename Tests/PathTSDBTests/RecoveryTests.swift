import Foundation
import Testing
@testable import PathTSDB

@Suite struct RecoveryTests {
    func options() -> StoreOptions {
        var o = StoreOptions()
        o.walSync = .never
        return o
    }

    /// Writes batches without closing (the head stays in the WAL), as a crash would leave it.
    func crashAfterWriting(_ batches: [[TraceRun]], in dir: String) throws {
        let store = try PathStore(directory: dir, options: options())
        for b in batches { try store.append(b) }
        // No close: the store is dropped with its head only in the WAL.
    }

    func walFile(_ dir: String) throws -> String {
        let names = files(in: dir + "/wal").filter { $0.hasSuffix(".wal") }
        return dir + "/wal/" + (try #require(names.last))
    }

    @Test func uncleanShutdownReplaysEveryAcknowledgedBatch() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 90)
        try crashAfterWriting([Array(runs[..<30]), Array(runs[30..<60]), Array(runs[60...])], in: dir.path)
        let store = try PathStore(directory: dir.path, options: options())
        #expect(store.recovery.replayedRecords == 3)
        #expect(store.recovery.problems.isEmpty)
        expectSameRuns(store.snapshot().allTraceRuns(), runs)
        try store.close()
    }

    /// The framed records of a WAL file: where each starts and ends.
    func walRecords(_ bytes: [UInt8]) -> [Range<Int>] {
        var out = [Range<Int>](), at = 16
        while at + 8 <= bytes.count {
            let length = Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
            out.append(at..<(at + 8 + length))
            at += 8 + length
        }
        return out
    }

    /// A record lost from the middle of the WAL (its bytes gone, the records around it intact):
    /// the gap is named with the sequence numbers it lost, and every record after it is still
    /// replayed — they were acknowledged.
    @Test func aRecordMissingFromTheWALIsNamedAndTheRecordsAfterItReplay() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 90)
        try crashAfterWriting([Array(runs[..<30]), Array(runs[30..<60]), Array(runs[60...])], in: dir.path)
        let wal = try walFile(dir.path)
        var bytes = fileBytes(wal)
        let records = walRecords(bytes)
        #expect(records.count == 3 && records.last?.upperBound == bytes.count)
        bytes.removeSubrange(records[1])
        writeFileBytes(bytes, wal)
        let store = try PathStore(directory: dir.path, options: options())
        let problem = try #require(store.recovery.problems.first)
        #expect(store.recovery.problems.count == 1)
        #expect(problem.code == .corruption && problem.file == wal && problem.offset == Int64(records[1].lowerBound))
        #expect(problem.message == "records 2 to 2 are missing before record 3", "\(problem)")
        expectSameRuns(store.snapshot().allTraceRuns(), Array(runs[..<30]) + Array(runs[60...]))
        try store.close()
    }

    /// A WAL file whose name and header disagree on its first sequence is reported, not replayed
    /// as if it were another file.
    @Test func aWALFileNamedForAnotherSequenceIsReported() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try crashAfterWriting([RunFactory.runs(count: 10)], in: dir.path)
        let wal = try walFile(dir.path)
        let renamed = dir.path + "/wal/" + String(repeating: "0", count: 19) + "5.wal"
        try FileManager.default.moveItem(atPath: wal, toPath: renamed)
        let store = try PathStore(directory: dir.path, options: options())
        let problem = try #require(store.recovery.problems.first)
        #expect(problem.file == renamed && problem.offset == 8 && problem.message == "first sequence 1, the file name says 5", "\(problem)")
        // Set aside whole, not cut: its records are still there for an operator.
        let kept = dir.path + "/quarantine/" + String(repeating: "0", count: 19) + "5.wal"
        #expect(store.recovery.quarantined == [kept])
        #expect(fileBytes(kept).count > 16 + 8 * 10)
        try store.close()
    }

    @Test(arguments: [1, 7, 100])
    func truncatedWALKeepsEarlierRecords(cut: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 90)
        try crashAfterWriting([Array(runs[..<30]), Array(runs[30..<60]), Array(runs[60...])], in: dir.path)
        let wal = try walFile(dir.path)
        var bytes = fileBytes(wal)
        bytes.removeLast(cut)
        writeFileBytes(bytes, wal)
        let store = try PathStore(directory: dir.path, options: options())
        let problem = try #require(store.recovery.problems.first)
        #expect(problem.code == .corruption)
        #expect(problem.file == wal)
        #expect(problem.offset != nil && problem.message.contains("cut short"))
        expectSameRuns(store.snapshot().allTraceRuns(), Array(runs[..<60]))
        // The repaired log takes new writes after the good records.
        try store.append(Array(runs[60...]))
        try store.close()
        let again = try PathStore(directory: dir.path, options: options())
        #expect(again.recovery.problems.isEmpty)
        #expect(again.snapshot().allTraceRuns().count == 90)
        try again.close()
    }

    @Test func corruptWALTailIsFoundByItsChecksum() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 60)
        try crashAfterWriting([Array(runs[..<30]), Array(runs[30...])], in: dir.path)
        let wal = try walFile(dir.path)
        var bytes = fileBytes(wal)
        bytes[bytes.count - 5] ^= 0x40
        writeFileBytes(bytes, wal)
        let store = try PathStore(directory: dir.path, options: options())
        let problem = try #require(store.recovery.problems.first)
        #expect(problem.message.contains("checksum"))
        #expect(problem.file == wal)
        #expect(store.snapshot().allTraceRuns().count == 30)
        try store.close()
    }

    /// A segment whose header, index or footer does not check cannot be salvaged (nothing in it
    /// can be found): it is quarantined whole, and the other segments are served.
    @Test func aSegmentWhoseHeaderDoesNotCheckIsQuarantinedWhole() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 600)
        do {
            let store = try PathStore(directory: dir.path, options: options())
            try store.append(Array(runs[..<300]))
            try store.flush()
            try store.append(Array(runs[300...]))
            try store.close()
        }
        let segs = files(in: dir.path + "/segments")
        #expect(segs.count == 2)
        let victim = dir.path + "/segments/" + segs[0]
        var bytes = fileBytes(victim)
        bytes[10] ^= 0x40  // the header's id
        writeFileBytes(bytes, victim)

        let store = try PathStore(directory: dir.path, options: options())
        #expect(store.recovery.quarantined == [dir.path + "/quarantine/" + segs[0]])
        let problem = try #require(store.recovery.problems.first)
        #expect(problem.file == victim && problem.code == .corruption && problem.offset != nil)
        expectSameRuns(store.snapshot().allTraceRuns(), Array(runs[300...]))
        try store.close()
    }

    /// A damaged chunk found while reading: the segment is salvaged (SalvageTests has more).
    @Test func damageFoundWhileReadingSetsTheSegmentAside() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var o = options()
        o.verifySegmentsOnOpen = false
        let runs = RunFactory.runs(count: 300)
        do {
            let store = try PathStore(directory: dir.path, options: o)
            try store.append(runs)
            try store.close()
        }
        let seg = dir.path + "/segments/" + (try #require(files(in: dir.path + "/segments").first))
        var bytes = fileBytes(seg)
        bytes[SegmentFormat.headerSize + 20] ^= 0xFF  // inside the first chunk
        writeFileBytes(bytes, seg)
        let store = try PathStore(directory: dir.path, options: o)
        let snap = store.snapshot()
        let (_, problems) = snap.runs(of: try #require(snap.catalog.targetID(named: "target-0")), in: Int64.min..<Int64.max)
        #expect(problems.first?.file == seg)
        #expect(store.snapshot().segments.map(\.path) != [seg] && store.snapshot().segments.count == 1)
        #expect(files(in: dir.path + "/quarantine") == [(seg as NSString).lastPathComponent, (seg as NSString).lastPathComponent + ".cause"])
        // What it lost and why, for verify, info, health and the queries' warning.
        let q = try #require(store.quarantinedFiles.first)
        #expect(store.quarantinedFiles.count == 1)
        #expect(q.cause?.contains("checksum mismatch") == true && q.cause?.contains(seg) == true, "\(String(describing: q.cause))")
        #expect(q.targets == ["target-0"])
        #expect(q.timeRange?.lowerBound == runs.map(\.startMicros).min())
        expectSameRuns(store.snapshot().allTraceRuns(), runs.filter { $0.target != "target-0" })
        try store.close()
    }

    /// Compaction that meets a damaged input sets it aside, skips that window this time and
    /// keeps every other segment's data; the error it logs names the damage as its cause. The
    /// next compaction merges the salvage with the rest.
    @Test func compactionSkipsAWindowWithADamagedSegment() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var o = options()
        o.verifySegmentsOnOpen = false
        let runs = RunFactory.runs(count: 300)
        do {
            let store = try PathStore(directory: dir.path, options: o)
            try store.append(Array(runs[..<150]))
            try store.flush()
            try store.append(Array(runs[150...]))
            try store.close()
        }
        let names = files(in: dir.path + "/segments").sorted()
        #expect(names.count == 2)
        let damaged = dir.path + "/segments/" + names[0]
        var bytes = fileBytes(damaged)
        bytes[SegmentFormat.headerSize + 20] ^= 0xFF
        writeFileBytes(bytes, damaged)
        let store = try PathStore(directory: dir.path, options: o)
        #expect(store.quarantinedFiles.isEmpty)
        let target0 = try #require(store.snapshot().catalog.targetID(named: "target-0"))
        let lost = try #require(store.snapshot().segments.first { $0.path == damaged }?.entry(for: target0))
        // Level 1 (two hours) skips the window; level 2 (a day) merges the salvage with the other.
        #expect(try store.compact(includeOpenWindows: true) == 1)
        #expect(files(in: dir.path + "/quarantine") == [names[0], names[0] + ".cause"])
        // Asked again after the quarantine (the answer is kept while the directory is unchanged).
        #expect(store.quarantinedFiles.map(\.path) == [dir.path + "/quarantine/" + names[0]])
        #expect(store.quarantinedFiles.first?.cause?.contains("checksum") == true)
        #expect(store.snapshot().segments.count == 1 && store.snapshot().segments.first?.level == 2)
        expectSameRuns(store.snapshot().allTraceRuns(),
                       runs.filter { !($0.target == "target-0" && (lost.minStartMicros...lost.maxStartMicros).contains($0.startMicros)) })
        try store.close()
    }

    @Test func anErrorSaysWhatCausedIt() {
        let damage = StorageError(.corruption, "record checksum mismatch", file: "s.seg", offset: 40)
        let e = StorageError(.corruption, "merging stopped", file: "s.seg", cause: damage)
        #expect(e.cause == damage)
        #expect(e.description == "s.seg: corruption: merging stopped; because s.seg:offset 40: corruption: record checksum mismatch")
    }

    @Test func aSecondOpenIsRefusedWithTheHoldersPid() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path, options: options())
        do {
            _ = try PathStore(directory: dir.path, options: options())
            Issue.record("second open succeeded")
        } catch {
            #expect(error.code == .locked)
            #expect(error.message.contains("locked by pid \(ProcessInfo.processInfo.processIdentifier)"))
        }
        try store.close()
    }

    @Test func aTornCatalogTailIsCutOff() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let runs = RunFactory.runs(count: 30)
        do {
            let store = try PathStore(directory: dir.path, options: options())
            try store.append(runs)
            try store.close()
        }
        let catalog = dir.path + "/catalog.ptc"
        var bytes = fileBytes(catalog)
        bytes += [9, 0, 0, 0, 1, 2]  // a record header cut short, as a crash mid-append leaves it
        writeFileBytes(bytes, catalog)
        let store = try PathStore(directory: dir.path, options: options())
        #expect(store.recovery.problems.first?.file == catalog)
        #expect(store.snapshot().allTraceRuns().count == 30)
        try store.close()
        #expect(fileBytes(catalog).count == bytes.count - 6)
    }
}

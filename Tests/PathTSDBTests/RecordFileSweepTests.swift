import Foundation
import Testing
@testable import PathTSDB

/// Every byte of every record-framed file (catalog, missed slots, alert log, WAL), flipped one at
/// a time, then the store opened by a writer, as after a crash: each flip is reported (a
/// problem in the recovery report or the alert log's tail, or an error that names the file) or
/// changes nothing the store answers; none traps. The segment sweep is `ByteFlipSweepTests`.
@Suite struct RecordFileSweepTests {
    /// A store with something in every file: runs in a segment and in the WAL, missed slots, an
    /// alert log; left as a crash leaves it (the WAL not yet cut).
    static func makeTemplate(_ path: String) throws {
        var o = StoreOptions()
        o.walSync = .never
        o.backgroundCuts = false
        let runs = RunFactory.runs(count: 6, targets: 2)
        let store = try PathStore(directory: path, options: o)
        try store.append(Array(runs[..<4]))
        try store.flush()
        try store.append(Array(runs[4...]))
        try store.recordMissed([MissedSlot(target: "target-0", vantage: "vp-0", slotMicros: 1_795_284_000_000_000, reason: .late),
                                MissedSlot(target: "target-1", vantage: "vp-1", slotMicros: 1_795_284_060_000_000, reason: .failed, detail: "no route")])
        try store.openAlertLog().append(FormatDocumentTests.alertRecords)
        store.waitForCuts()
    }

    /// Everything the store answers from those files (compared as values: a dictionary's
    /// description may order its keys differently from one instance to the next).
    struct Answer: Equatable {
        var runs: [TraceRun]
        var missed: [MissedSlot]
        var alerts: [AlertRecord]
        var targets: [String]
        var paths: Int
        var addresses: Int
    }

    /// What the store answers, and what it reported while opening.
    static func contents(_ path: String) throws(StorageError) -> (answer: Answer, problems: [StorageError]) {
        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: path, options: o)
        defer { try? store.close() }
        let snap = store.snapshot()
        let log = try store.openAlertLog()
        let answer = Answer(runs: snap.allTraceRuns(), missed: snap.missed(in: Int64.min..<Int64.max), alerts: log.records,
                            targets: snap.catalog.targets.map(\.name), paths: snap.catalog.paths.count, addresses: snap.catalog.addresses.count)
        return (answer, store.recovery.problems + (log.tailProblem.map { [$0] } ?? []))
    }

    @Test(arguments: ["catalog.ptc", "missed.ptm", "alerts.pta", "wal"])
    func everyByteIsReportedOrHarmless(file: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let template = dir.path + "/template", work = dir.path + "/work"
        try Self.makeTemplate(template)
        let relative = file == "wal" ? "wal/" + (try #require(files(in: template + "/wal").last)) : file
        let original = fileBytes(template + "/" + relative)
        try #require(original.count > 8, "\(relative) holds records")
        try copyTree(template, to: work)
        let expected = try Self.contents(work)
        #expect(expected.problems.isEmpty, "\(expected.problems)")

        var reported = 0, refused = 0, harmless = [Int]()
        for position in original.indices {
            try? FileManager.default.removeItem(atPath: work)
            try copyTree(template, to: work)
            var bytes = original
            bytes[position] ^= 0x01
            writeFileBytes(bytes, work + "/" + relative)
            do {
                let found = try Self.contents(work)
                if !found.problems.isEmpty {
                    reported += 1
                    #expect(found.problems.allSatisfy { $0.file?.hasPrefix(work) == true }, "\(found.problems)")
                } else if found.answer == expected.answer {
                    harmless.append(position)
                } else {
                    Issue.record("flip at offset \(position) of \(relative) (\(original.count) bytes) changed what is answered, unreported")
                }
            } catch {
                // The store would not open: the error must say which file and why.
                refused += 1
                #expect(error.code == .corruption || error.code == .unsupportedVersion, "\(error)")
                #expect(error.file?.hasPrefix(work) == true, "\(error)")
            }
        }
        print("\(relative), \(original.count) bytes: \(reported) flips reported, \(refused) refused with an error, \(harmless.count) harmless at \(harmless)")
        // The file header's magic, version and reserved bytes are checked, and every byte of a
        // record is inside its length and checksum. The one harmless flip: missed.ptm's version
        // 3 turned into 2, which reads these records (reasons 3 and 4) the same; a record that
        // needs version 3 (reason 5) would be refused by it.
        #expect(harmless == (file == "missed.ptm" ? [4] : []))
    }
}

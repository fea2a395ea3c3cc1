import Foundation
import Testing
@testable import PathTSDB

/// `docs/read-store.py` reads a store's files from `docs/FORMAT.md` alone: the catalog, missed
/// slots and write-ahead log, and every segment's header, footer, index, events, rollup and chunk
/// blocks, RTTs included. These tests run it on stores this build writes and on the committed
/// stores of every format version, and compare what it finds with what the store itself reads:
/// where they agree, the document describes the files as they are.
@Suite struct FormatDocumentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// One segment file, or the store's own files, as the reference reader saw them (a `--json` line).
    struct ReaderFile: Decodable {
        struct Tier: Decodable, Equatable { var rows: Int; var sent: Int; var lost: Int; var sum: UInt64 }
        struct Raw: Decodable, Equatable { var runs: Int; var probes: Int; var replies: Int; var sum: UInt64 }
        struct Counts: Decodable, Equatable { var targets: Int; var vantages: Int; var addresses: Int; var paths: Int }
        /// A segment's path; nil on the store's line.
        var file: String?
        /// The store directory, on the line for its catalog, missed slots and write-ahead log.
        var store: String?
        var catalog: Counts?
        var missed: Int?
        var wal: Raw?
        var alerts: [String: Int]?
        var error: String?
        var version: UInt16?
        var level: UInt8?
        var id: UInt64?
        var targets: Int?
        var runs: Int?
        var probes: Int?
        var samples: Int?
        var events: Int?
        var sources: [UInt64]?
        var tiers: [String: Tier]?
        /// The end-to-end rollup rows (TTL 0), per tier.
        var ends: [String: Tier]?
        var raw: Raw?
        var rollupsAgree: Bool?
    }

    static func readWithDocument(_ directory: String) throws -> (files: [ReaderFile], status: Int32) {
        let p = Process()
        // Debian's python3, where scripts/setup installs python3-zstandard, before any other on PATH.
        let debian = "/usr/bin/python3"
        let script = repository.appendingPathComponent("docs/read-store.py").path
        if FileManager.default.isExecutableFile(atPath: debian) {
            p.executableURL = URL(fileURLWithPath: debian)
            p.arguments = [script, "--json", directory]
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", script, "--json", directory]
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(errors.isEmpty, "read-store.py: \(errors)")
        let files = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(ReaderFile.self, from: Data($0.utf8))
        }
        return (files, p.terminationStatus)
    }

    /// Compares every file of `snapshot` with the reference reader's view of it.
    static func expectReaderAgrees(with snapshot: StoreSnapshot, in directory: String) throws {
        let (files, status) = try readWithDocument(directory)
        #expect(status == 0, "read-store.py found a disagreement: \(files.compactMap(\.error))")
        let segments = snapshot.segments + snapshot.rollupFiles
        #expect(files.count == segments.count + 1)
        let storeLine = try #require(files.first { $0.store != nil })
        #expect(storeLine.error == nil)
        #expect(storeLine.missed == snapshot.missedSlots.count)
        for segment in segments {
            let f = try #require(files.first { $0.file?.hasSuffix(SegmentFormat.fileName(id: segment.id)) == true }, "\(segment.path) not read")
            #expect(f.error == nil)
            #expect(f.version == segment.version && f.level == segment.level && f.id == segment.id.rawValue)
            #expect(f.targets == segment.targetCount && f.runs == segment.runCount)
            #expect(f.probes == segment.probeCount && f.samples == segment.sampleCount)
            #expect(f.events == (try segment.events()).count)
            var tiers = [String: ReaderFile.Tier](), ends = [String: ReaderFile.Tier]()
            var raw = ReaderFile.Raw(runs: 0, probes: 0, replies: 0, sum: 0)
            for target in segment.targets {
                if segment.runCount > 0 {
                    let table = try segment.runs(of: target, catalog: snapshot.catalog)
                    raw.runs += table.runs.count
                    raw.probes += table.probes.count
                    for p in table.probes where p.isTimed {
                        raw.replies += 1
                        raw.sum += UInt64(p.rttMicros)
                    }
                }
                for row in try segment.rollups(of: target) {
                    let name = ["5 min", "1 hour", "1 day"][Int(row.tier.rawValue)]
                    var t = (row.ttl == 0 ? ends : tiers)[name] ?? ReaderFile.Tier(rows: 0, sent: 0, lost: 0, sum: 0)
                    t.rows += 1
                    t.sent += Int(row.sent)
                    t.lost += Int(row.lost)
                    t.sum += row.sumMicros
                    if row.ttl == 0 { ends[name] = t } else { tiers[name] = t }
                }
            }
            #expect(f.tiers == tiers, "\(segment.path)")
            #expect(f.ends == ends, "\(segment.path)")
            // A run's destination probes are among its probes: every end-to-end row counts no
            // more than the hop rows of its tier.
            if segment.version >= SegmentFormat.endToEndRollupVersion && segment.runCount > 0 {
                #expect(!ends.isEmpty && ends.allSatisfy { name, e in e.sent <= (tiers[name]?.sent ?? 0) })
            }
            // The reader decodes the chunks (RTT section included) from the document too.
            #expect(f.raw == raw, "\(segment.path)")
            #expect(f.rollupsAgree == true)
        }
    }

    /// One record of each kind of the alert log, as FORMAT.md describes them.
    static let alertRecords: [AlertRecord] = [
        .transition(AlertTransition(alertID: 1, timeMicros: 1_795_000_000_000_000, state: .pending, rule: "pc", target: "core/gw",
                                    severity: "warning", labels: ["rule": "pc", "team": "noc"], evidence: "{\"kind\":\"path_changed\"}")),
        .transition(AlertTransition(alertID: 1, timeMicros: 1_795_000_060_000_000, state: .firing, rule: "pc", target: "core/gw", hop: 3,
                                    severity: "warning", value: 3, annotations: ["summary": "changed at TTL 3"])),
        .notification(QueuedNotification(id: 1, timeMicros: 1_795_000_060_000_000, receiver: "hook", expiresMicros: 1_795_086_460_000_000,
                                         alertIDs: [1], payload: "{\"version\":\"1\"}")),
        .delivery(DeliveryOutcome(notificationID: 1, timeMicros: 1_795_000_061_000_000, result: .failed, attempt: 1, detail: "answered 500")),
        .delivery(DeliveryOutcome(notificationID: 1, timeMicros: 1_795_000_062_000_000, result: .delivered, attempt: 2)),
        .silence(SilenceRecord(id: 1, createdMicros: 1_795_000_000_000_000, startsMicros: 1_795_000_000_000_000, endsMicros: 1_795_007_200_000_000,
                               matchers: ["target": "core/gw"], comment: "maintenance", author: "noc")),
        .acknowledgement(Acknowledgement(alertID: 1, timeMicros: 1_795_000_070_000_000, author: "noc", comment: "looking")),
    ]

    @Test func referenceReaderReadsTheAlertLog() throws {
        let dir = TemporaryDirectory("pathtsdb-alerts")
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path)
        try store.openAlertLog().append(Self.alertRecords)
        // Read back by the store, as written.
        #expect(try store.openAlertLog().records == Self.alertRecords)
        try store.close()
        let (files, status) = try Self.readWithDocument(dir.path)
        #expect(status == 0)
        #expect(files.first?.alerts == ["transitions": 2, "notifications": 1, "deliveries": 2, "silences": 1, "acknowledgements": 1])
    }

    @Test func aTornAlertLogTailIsCutOffAndReported() throws {
        let dir = TemporaryDirectory("pathtsdb-alerts-torn")
        defer { dir.remove() }
        let store = try PathStore(directory: dir.path)
        defer { try? store.close() }
        try store.openAlertLog().append(Self.alertRecords)
        let path = StoreLayout(directory: dir.path).alerts
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // The last record loses its final byte, as a crash mid-write would leave it.
        try whole.dropLast().write(to: URL(fileURLWithPath: path))
        let reopened = try store.openAlertLog()
        #expect(reopened.records == Array(Self.alertRecords.dropLast()))
        #expect(reopened.tailProblem?.description.contains("runs past the end of the file") == true, "\(String(describing: reopened.tailProblem))")
        // The cut is made on disk: the next append follows the intact records.
        try reopened.append([Self.alertRecords[6]])
        #expect(try store.openAlertLog().records == Self.alertRecords)
        #expect(try store.openAlertLog().tailProblem == nil)
    }

    @Test func referenceReaderAgreesOnCompactedAndRetiredSegments() throws {
        let dir = TemporaryDirectory("pathtsdb-document")
        defer { dir.remove() }
        var o = StoreOptions()
        o.walSync = .never
        o.headCutProbes = 2000
        o.backgroundCuts = false
        o.compactionWindows = [.seconds(3600), .seconds(4 * 3600)]
        o.rawRetention = .seconds(3600)
        let store = try PathStore(directory: dir.path, options: o)
        // target-2 is traced the classic way, its second probe at TTL 2 down another branch:
        // its paths are load-balanced (catalog record kind 5) and its route is in the state.
        // Some of target-1's runs are mtr reports and interrupted traces (version 5).
        let runs = RunFactory.runs(count: 3 * 60 * 6).enumerated().map { i, run in
            if run.target == "target-1" && i % 50 == 1 { return RunFactory.report(of: run) }
            if run.target == "target-1" && i % 70 == 1 { return RunFactory.interrupted(run, after: 3) }
            guard run.target == "target-2" else { return run }
            var classic = run
            classic.method = .udp
            if let i = classic.probes.indices.filter({ classic.probes[$0].ttl == 2 }).dropFirst().first, !classic.probes[i].isLoss {
                classic.probes[i].address = IPAddress(v4: 0xC000_0263)
            }
            return classic
        }
        try appendInBatches(runs, to: store)
        #expect(store.snapshot().catalog.paths.contains { $0.isLoadBalanced })
        let last = try #require(runs.last).startMicros
        try store.recordMissed([
            MissedSlot(target: "target-1", vantage: "lon1", slotMicros: last, reason: .stillRunning),
            MissedSlot(target: "ünïcode/ziel", vantage: "lon1", slotMicros: last + 60_000_000, reason: .late),
            MissedSlot(target: "target-2", vantage: "lon1", slotMicros: last + 120_000_000, reason: .failed,
                       detail: "traceroute: cannot run: no such file"),
        ])
        try store.flush()
        _ = try store.compact(includeOpenWindows: true)
        #expect(try store.applyRetention(now: last) > 0)
        let snapshot = store.snapshot()
        #expect(snapshot.missedSlots.count == 3)
        // Segments cut from the head, compacted ones and rollup-only files with the 5-minute tier.
        #expect(!snapshot.rollupFiles.isEmpty)
        #expect(snapshot.segments.contains { $0.level > 0 })
        try FormatDocumentTests.expectReaderAgrees(with: snapshot, in: dir.path)
        try store.close()
    }

    @Test(arguments: SegmentFormat.readableVersions)
    func referenceReaderAgreesOnEveryVersion(version: UInt16) throws {
        let dir = try FormatFixtureTests.copy(version: version)
        defer { dir.remove() }
        var o = StoreOptions()
        o.walSync = .never
        o.backgroundCuts = false
        let store = try PathStore(directory: dir.path, options: o)
        // Only the committed segment: the store's cut of the replayed WAL comes at close.
        try FormatDocumentTests.expectReaderAgrees(with: store.snapshot(), in: dir.path)
        // The write-ahead log holds the fixture's last 30 runs, as it was left.
        let walRuns = FormatFixtureTests.runs(version: version)[60...]
        let replies = walRuns.flatMap(\.probes).filter(\.isTimed)
        let before = try FormatDocumentTests.readWithDocument(dir.path).files.first { $0.store != nil }
        #expect(before?.wal == ReaderFile.Raw(runs: walRuns.count, probes: walRuns.reduce(0) { $0 + $1.probes.count },
                                              replies: replies.count, sum: replies.reduce(0) { $0 + UInt64($1.rttMicros) }))
        let catalog = store.snapshot().catalog
        try store.close()
        // Closed, the store has written every catalog entry, and the reader counts them all.
        let after = try FormatDocumentTests.readWithDocument(dir.path)
        #expect(after.status == 0)
        #expect(after.files.first { $0.store != nil }?.catalog == ReaderFile.Counts(
            targets: catalog.targetNames.count, vantages: catalog.vantageNames.count,
            addresses: catalog.addresses.count, paths: catalog.paths.count))
    }

    @Test func referenceReaderNamesADamagedRollupBlock() throws {
        let dir = try FormatFixtureTests.copy(version: SegmentFormat.version)
        defer { dir.remove() }
        let path = dir.path + "/segments/" + SegmentFormat.fileName(id: SegmentID(rawValue: 1))
        let segment = try Segment(path: path, verifyBlocks: true)
        let entry = try #require(segment.index.entries.first)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[Int(entry.rollupOffset) + 12] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (files, status) = try FormatDocumentTests.readWithDocument(dir.path)
        #expect(status == 1)
        let error = try #require(files.first { $0.file != nil }?.error)
        #expect(error.contains("rollup block of target \(entry.target.rawValue) at offset \(entry.rollupOffset): checksum mismatch"))
    }
}

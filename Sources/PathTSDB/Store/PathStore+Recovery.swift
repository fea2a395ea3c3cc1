#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// Opening's repairs: segments read (a file that does not open quarantined, one with damaged
/// blocks noted for salvage), the WAL replayed into the head, and what both found.
extension PathStore {
    static func loadSegments(in dir: String, quarantine: String, verify: Bool, report: inout RecoveryReport,
                             damaged: inout [(Segment, StorageError)]) throws(StorageError) -> [Segment] {
        var out = [Segment]()
        for name in try FileSystem.list(dir) {
            let path = StoreLayout.path(name, in: dir)
            if name.hasSuffix(".tmp") {
                try FileSystem.remove(path)
                report.removedLeftovers.append(path)
                continue
            }
            guard SegmentFormat.id(ofFileNamed: name) != nil else { continue }
            let segment: Segment
            do {
                segment = try Segment(path: path, verifyBlocks: false)
            } catch {
                report.problems.append(error)
                report.quarantined.append(try PathStore.moveToQuarantine(path, directory: quarantine, because: error))
                continue
            }
            // A damaged block costs what it holds: the segment is salvaged once the store is open.
            if verify, let first = segment.damagedBlocks().first {
                report.problems.append(first.error)
                damaged.append((segment, first.error))
            }
            out.append(segment)
        }
        return out.sorted { $0.minStartMicros < $1.minStartMicros }
    }

    /// Where the head resumes after `segments`: the newest one's WAL high water and its
    /// path-change detector state (a fresh detector, the damage reported, when that does not read).
    static func resumePoint(of segments: [Segment], report: inout RecoveryReport) -> (highWater: WALSequence, detector: PathChangeDetector) {
        guard let newest = segments.max(by: { $0.walHighWater < $1.walHighWater }) else { return (.none, PathChangeDetector()) }
        do {
            return (newest.walHighWater, try newest.detectorState())
        } catch {
            report.problems.append(error)
            return (newest.walHighWater, PathChangeDetector())
        }
    }

    /// The records lost between the WAL file read before (its last record `last`) and this one,
    /// which starts later than the next: the file before ended early, or is gone.
    static func walGap(before contents: WALFileContents, after last: WALSequence, path: String) -> StorageError? {
        guard last != .none, let first = contents.records.first?.sequence, first > last.next else { return nil }
        return StorageError(.corruption, "WAL records \(last.next) to \(first.rawValue - 1) are missing before this file",
                            file: path, offset: Int64(WALFormat.fileHeaderSize))
    }

    static func checkCatalogCovers(_ seg: Segment, catalog: Catalog) throws(StorageError) {
        if let maxTarget = seg.index.entries.last?.target, catalog.name(of: maxTarget) == nil {
            throw StorageError(.corruption, "segment refers to target \(maxTarget.rawValue), which catalog.ptc does not hold", file: seg.path)
        }
    }

    func replayWAL(after highWater: WALSequence) throws(StorageError) {
        var report = RecoveryReport()
        let files = try FileSystem.list(walDirectory).filter { WALFormat.firstSequence(ofFileNamed: $0) != nil }
        var lastSeq = highWater
        for name in files {
            let path = StoreLayout.path(name, in: walDirectory)
            let bytes: [UInt8]
            do {
                let f = try PosixFile(path: path, flags: O_RDWR)
                bytes = try f.readAll()
            }
            let contents = WALReader.read(path: path, bytes: bytes)
            report.problems += contents.sequenceProblems
            if let gap = PathStore.walGap(before: contents, after: lastSeq, path: path) { report.problems.append(gap) }
            for record in contents.records where record.sequence > lastSeq {
                try writer.withLock { (w: inout WriterState) throws(StorageError) in
                    let block = w.ingester.ingest(record.runs, walSequence: record.sequence)
                    publishHeadBlock(block, writer: &w)
                    // The WAL files are still being read: cut without touching them.
                    if w.uncutProbes >= options.headCutProbes { try cutSynchronously(writer: &w, dropWAL: false) }
                }
                lastSeq = record.sequence
                report.replayedRecords += 1
            }
            if let problem = contents.problem, contents.headerDamaged {
                // Not cut to nothing: set aside whole, for an operator to look at.
                report.problems.append(problem)
                let dest = try PathStore.moveToQuarantine(path, directory: quarantineDirectory, because: problem)
                report.quarantined.append(dest)
                logger.warning("WAL file with a damaged header quarantined", metadata: ["error": "\(problem)", "file": "\(dest)"])
            } else if let problem = contents.problem {
                report.problems.append(problem)
                logger.warning("WAL damage, replayed up to the last good record", metadata: ["error": "\(problem)"])
                let f = try PosixFile(path: path, flags: O_RDWR)
                try f.truncate(to: contents.validLength)
                try f.sync()
            }
        }
        try writer.withLock { (w: inout WriterState) throws(StorageError) in
            w.wal = WALWriter(directory: walDirectory, nextSequence: lastSeq.next, syncPolicy: options.walSync, fileSizeLimit: options.walFileBytes,
                              groupCommit: w.wal.groupCommit)
            try w.wal.rotate(firstSequence: lastSeq.next)
            if w.uncutProbes == 0 { try dropWALFiles(before: w.wal.currentFirstSequence) }
        }
        mergeReport(report)
    }

    func mergeReport(_ r: RecoveryReport) {
        extraReport.withLock {
            $0.problems += r.problems
            $0.quarantined += r.quarantined
            $0.replayedRecords += r.replayedRecords
        }
    }

    /// What opening the store found and repaired, WAL replay included.
    public var recovery: RecoveryReport {
        var r = openReport
        let extra = extraReport.withLock { $0 }
        r.problems += extra.problems
        r.quarantined += extra.quarantined
        r.replayedRecords += extra.replayedRecords
        return r
    }

}

#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// The embedded path store: one data directory, one writer, any number of readers.
///
/// Writes go to the write-ahead log first, then into the in-memory head, which is cut into an
/// immutable segment file once it is large enough. Readers take a `snapshot()`, a consistent
/// view that later writes, compactions and retention do not disturb.
///
/// Concurrency: `append`, `flush`, `compact`, `applyRetention` and `close` are serialised by one
/// writer lock; `snapshot()` never waits for them longer than it takes to copy a few references.
public final class PathStore: Sendable {
    public let directory: String
    public let options: StoreOptions
    /// What opening found before WAL replay; `recovery` adds the replay.
    private let openReport: RecoveryReport

    private let lock: DirectoryLock
    let writer: Mutex<WriterState>
    let published: Mutex<Published>
    /// Written by whoever cuts: the cutter thread, or the writer for a synchronous cut.
    private let catalogFile: Mutex<CatalogFile>
    private let cutter: Mutex<SegmentCutter?> = Mutex(nil)
    /// `missed.ptm`; its lock also orders appends to `published.missed`.
    let missedFile: Mutex<MissedSlotFile>
    let logger: Logger

    struct Published {
        var catalog: Catalog
        var segments: [Segment]
        var rollupFiles: [Segment]
        var head: [HeadBlock]
        /// Scheduled runs that did not start, oldest first.
        var missed: [MissedSlot] = []
        var closed = false
    }

    struct WriterState: ~Copyable {
        var wal: WALWriter
        var ingester: HeadIngester
        /// Probes appended since the last cut began.
        var uncutProbes = 0
        var nextSegmentID: SegmentID
    }

    /// Where the store's files are.
    public var layout: StoreLayout { StoreLayout(directory: directory) }
    var segmentsDirectory: String { layout.segments }
    var walDirectory: String { layout.wal }
    var rollupsDirectory: String { layout.rollups }
    var quarantineDirectory: String { layout.quarantine }

    // MARK: - Opening

    /// Opens (or creates) the store in `directory`, recovering from whatever a crash left.
    /// - Throws: `StorageError` with code `.locked` when another process has it open; other
    ///   errors when the directory cannot be used at all. Damage to individual files is not an
    ///   error: it is repaired or quarantined and listed in `recovery`.
    public init(directory: String, options: StoreOptions = StoreOptions(), logger: Logger = Logger(label: "pathtsdb")) throws(StorageError) {
        self.directory = directory
        self.options = options
        self.logger = logger
        try FileSystem.makeDirectory(directory)
        let layout = StoreLayout(directory: directory)
        lock = try DirectoryLock(layout: layout)
        for d in layout.subdirectories {
            try FileSystem.makeDirectory(d)
        }
        var report = RecoveryReport()

        var catalog = Catalog()
        var catalogProblem: StorageError?
        let catalogFile = try CatalogFile(path: layout.catalog, into: &catalog, tailProblem: &catalogProblem)
        if let catalogProblem { report.problems.append(catalogProblem) }
        var missed = [MissedSlot]()
        var missedProblem: StorageError?
        let missedFile = try MissedSlotFile(path: layout.missed, into: &missed, tailProblem: &missedProblem)
        if let missedProblem { report.problems.append(missedProblem) }
        self.missedFile = Mutex(missedFile)

        var segments = try PathStore.loadSegments(in: layout.segments, quarantine: layout.quarantine,
                                                  verify: options.verifySegmentsOnOpen, report: &report)
        let rollupFiles = try PathStore.loadSegments(in: layout.rollups, quarantine: layout.quarantine,
                                                     verify: options.verifySegmentsOnOpen, report: &report)
        // A finished compaction lists its inputs; a finished retention step names its segment.
        let superseded = Set(segments.flatMap(\.sources) + rollupFiles.flatMap(\.sources))
        for seg in segments where superseded.contains(seg.id) {
            try FileSystem.remove(seg.path)
            report.removedLeftovers.append(seg.path)
        }
        segments.removeAll { superseded.contains($0.id) }

        let newest = segments.max { $0.walHighWater < $1.walHighWater }
        let highWater = newest?.walHighWater ?? .none
        var detector = PathChangeDetector()
        if let newest {
            do { detector = try newest.detectorState() } catch {
                report.problems.append(error)
            }
        }
        for seg in segments { try PathStore.checkCatalogCovers(seg, catalog: catalog) }

        let allIDs = (try FileSystem.list(layout.segments) + FileSystem.list(layout.rollups) + FileSystem.list(layout.quarantine))
            .compactMap { SegmentFormat.id(ofFileNamed: String($0.prefix(20))) }
        let nextID = (allIDs.max() ?? SegmentID(rawValue: 0)).next

        let wal = WALWriter(directory: layout.wal, nextSequence: highWater.next, syncPolicy: options.walSync,
                            fileSizeLimit: options.walFileBytes)
        let state = WriterState(wal: wal, ingester: HeadIngester(catalog: catalog, detector: detector), nextSegmentID: nextID)
        writer = Mutex(state)
        self.catalogFile = Mutex(catalogFile)
        published = Mutex(Published(catalog: catalog, segments: segments, rollupFiles: rollupFiles, head: [], missed: missed))
        openReport = report
        try replayWAL(after: highWater)
        if options.backgroundCuts {
            let cutter = SegmentCutter { [weak self] job in self?.performBackgroundCut(job) }
            self.cutter.withLock { $0 = cutter }
        }
    }

    static func loadSegments(in dir: String, quarantine: String, verify: Bool, report: inout RecoveryReport) throws(StorageError) -> [Segment] {
        var out = [Segment]()
        for name in try FileSystem.list(dir) {
            let path = StoreLayout.path(name, in: dir)
            if name.hasSuffix(".tmp") {
                try FileSystem.remove(path)
                report.removedLeftovers.append(path)
                continue
            }
            guard SegmentFormat.id(ofFileNamed: name) != nil else { continue }
            do {
                out.append(try Segment(path: path, verifyBlocks: verify))
            } catch {
                report.problems.append(error)
                let dest = StoreLayout.path(name, in: quarantine)
                try FileSystem.rename(path, dest)
                report.quarantined.append(dest)
            }
        }
        return out.sorted { $0.minStartMicros < $1.minStartMicros }
    }

    static func checkCatalogCovers(_ seg: Segment, catalog: Catalog) throws(StorageError) {
        if let maxTarget = seg.index.entries.last?.target, catalog.name(of: maxTarget) == nil {
            throw StorageError(.corruption, "segment refers to target \(maxTarget.rawValue), which catalog.ptc does not hold", file: seg.path)
        }
    }

    private func replayWAL(after highWater: WALSequence) throws(StorageError) {
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
            if let first = contents.records.first?.sequence, first > lastSeq.next, lastSeq != .none {
                // The file before this one ended early, or is gone: its records are lost.
                report.problems.append(StorageError(.corruption, "WAL records \(lastSeq.next) to \(first.rawValue - 1) are missing before this file",
                                                    file: path, offset: Int64(WALFormat.fileHeaderSize)))
            }
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
                let dest = StoreLayout.path(name, in: quarantineDirectory)
                try FileSystem.rename(path, dest)
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
            w.wal = WALWriter(directory: walDirectory, nextSequence: lastSeq.next, syncPolicy: options.walSync, fileSizeLimit: options.walFileBytes)
            try w.wal.rotate(firstSequence: lastSeq.next)
            if w.uncutProbes == 0 { try dropWALFiles(before: w.wal.currentFirstSequence) }
        }
        mergeReport(report)
    }

    private let extraReport = Mutex(RecoveryReport())

    private func mergeReport(_ r: RecoveryReport) {
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

    // MARK: - Writing

    /// Appends runs. When this returns, the runs are in the WAL (synced as `options.walSync`
    /// says) and visible to new snapshots.
    /// - Returns: the batch as the store holds it (catalog ids, path ids), for a reader that
    ///   wants the new runs without reading them back (the alert engine).
    /// - Throws: `.invalidArgument` for a run the store cannot hold (nothing is written then);
    ///   `.diskFull` or `.io` when the WAL write fails (nothing of the batch is acknowledged, and
    ///   nothing acknowledged before is touched).
    @discardableResult
    public func append(_ runs: [TraceRun]) throws(StorageError) -> RunTable {
        guard !runs.isEmpty else { return RunTable() }
        for r in runs { try r.validate() }
        return try writer.withLock { (w: inout WriterState) throws(StorageError) -> RunTable in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            let seq = try w.wal.append(runs)
            let block = w.ingester.ingest(runs, walSequence: seq)
            publishHeadBlock(block, writer: &w)
            // The batch is acknowledged from here on: a failed cut (a full disk, say) must not
            // make the caller think otherwise and write it again. The head keeps the data and
            // the cut is retried when the head has grown again.
            if w.uncutProbes >= options.headCutProbes {
                do throws(StorageError) {
                    try startCut(writer: &w)
                } catch {
                    logger.error("cutting the head into a segment failed; will retry", metadata: ["error": "\(error)"])
                }
            }
            return block.table
        }
    }

    var isClosed: Bool { published.withLock { $0.closed } }

    /// Records scheduled runs that did not start. When this returns they are on disk (fsynced)
    /// and visible to new snapshots.
    /// - Throws: `.invalidArgument` for a slot without a target name (nothing is written then);
    ///   `.diskFull` or `.io` when the write fails (nothing of the call is recorded).
    public func recordMissed(_ slots: [MissedSlot]) throws(StorageError) {
        guard !slots.isEmpty else { return }
        guard slots.allSatisfy({ !$0.target.isEmpty }) else { throw StorageError(.invalidArgument, "a missed slot needs a target name") }
        try missedFile.withLock { (file: inout MissedSlotFile) throws(StorageError) in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            try file.append(slots)
            published.withLock { $0.missed += slots }
        }
    }

    private func publishHeadBlock(_ block: HeadBlock, writer w: inout WriterState) {
        w.uncutProbes += block.table.probes.count
        let catalog = w.ingester.catalog
        published.withLock {
            $0.head.append(block)
            $0.catalog = catalog
        }
    }

    /// Cuts the head into a segment now, whatever its size, and waits for it to be on disk.
    public func flush() throws(StorageError) {
        try writer.withLock { (w: inout WriterState) throws(StorageError) in try cutSynchronously(writer: &w, dropWAL: true) }
    }

    /// Waits until the cut in flight, if any, is on disk and published.
    public func waitForCuts() {
        cutter.withLock { $0 }?.waitUntilIdle()
    }

    /// Hands the whole head to the cutter thread (or cuts it here, without one). With a cut
    /// already in flight, the head keeps growing, up to twice the cut size; then the writer
    /// waits for the cutter, which bounds memory.
    private func startCut(writer w: inout WriterState) throws(StorageError) {
        guard let cutter = cutter.withLock({ $0 }) else {
            try cutSynchronously(writer: &w, dropWAL: true)
            return
        }
        if cutter.isBusy {
            guard w.uncutProbes >= 2 * options.headCutProbes else { return }
            cutter.waitUntilIdle()
        }
        guard let job = try makeCutJob(writer: &w, rotateWAL: true) else { return }
        cutter.submit(job)
    }

    /// Everything in the head, as one cut; rotates the WAL so that older files hold only records
    /// of this cut or of earlier ones.
    private func makeCutJob(writer w: inout WriterState, rotateWAL: Bool) throws(StorageError) -> CutJob? {
        let head = published.withLock { $0.head }
        guard !head.isEmpty else { return nil }
        var rotatedAt = WALSequence.none
        if rotateWAL {
            try w.wal.rotate(firstSequence: w.wal.nextSequence)
            rotatedAt = w.wal.currentFirstSequence
        }
        let job = CutJob(blocks: head, catalog: w.ingester.catalog, detector: w.ingester.detector,
                         segmentID: w.nextSegmentID, walRotatedAt: rotatedAt)
        w.nextSegmentID = w.nextSegmentID.next
        w.uncutProbes = 0
        return job
    }

    /// Waits for the cutter, then cuts what is left in the head on this thread.
    private func cutSynchronously(writer w: inout WriterState, dropWAL: Bool) throws(StorageError) {
        cutter.withLock { $0 }?.waitUntilIdle()
        guard let job = try makeCutJob(writer: &w, rotateWAL: dropWAL) else { return }
        do throws(StorageError) {
            try performCut(job)
        } catch {
            w.uncutProbes = published.withLock { $0.head.reduce(0) { $0 + $1.table.probes.count } }
            throw error
        }
    }

    private func performBackgroundCut(_ job: CutJob) {
        do throws(StorageError) {
            try performCut(job)
        } catch {
            // The blocks stay in the head; the next cut takes them along.
            logger.error("cutting the head into a segment failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Writes a cut as a level-0 segment: catalog first, then the segment, then the head blocks
    /// leave the head and the WAL files before the cut's rotation go.
    private func performCut(_ job: CutJob) throws(StorageError) {
        guard let lastBlock = job.blocks.last else { return }
        let catalog = job.catalog
        try catalogFile.withLock { (file: inout CatalogFile) throws(StorageError) in try file.persist(catalog) }

        // Where each target's runs are; each target's table is built, written and dropped in
        // turn, so a cut needs memory for one target beyond the head itself.
        let head = job.blocks
        var byTarget = [TargetID: [(block: Int32, run: Int32)]]()
        for (b, block) in head.enumerated() {
            for (r, run) in block.table.runs.enumerated() { byTarget[run.target, default: []].append((Int32(b), Int32(r))) }
        }
        let sw = try SegmentWriter(directory: segmentsDirectory, id: job.segmentID, level: 0, zstdLevel: options.zstdLevelFresh)
        do throws(StorageError) {
            for target in byTarget.keys.sorted() {
                var table = RunTable()
                for (b, r) in byTarget[target, default: []] {
                    let source = head[Int(b)].table
                    table.append(source.runs[Int(r)], from: source)
                }
                table.sortByStart()
                let rollups = RollupBuilder.rows(target: target, runs: table.runs, probes: table.probes, tiers: RollupTier.storedWithSegments)
                try sw.add(SegmentTargetInput(target: target, table: table, rollups: rollups), catalog: catalog)
            }
        } catch {
            sw.abandon()
            throw error
        }
        // In time order, as compaction writes them: a load-balanced route's change is dated at
        // the first run of its new route, before runs ingested ahead of it.
        let events = head.flatMap(\.events).sorted { ($0.timeMicros, $0.target) < ($1.timeMicros, $1.target) }
        let path = try sw.finish(events: events, state: job.detector, walHighWater: lastBlock.walSequence, sources: [])
        let segment = try Segment(path: path, verifyBlocks: false)
        published.withLock { p in
            // Only cuts remove head blocks, one cut at a time: the cut blocks lead the head.
            precondition(p.head.count >= head.count && zip(p.head, head).allSatisfy { $0 === $1 },
                         "the head changed under a cut")
            p.segments.append(segment)
            p.head.removeFirst(head.count)
        }
        if job.walRotatedAt != .none { try dropWALFiles(before: job.walRotatedAt) }
    }

    private func dropWALFiles(before sequence: WALSequence) throws(StorageError) {
        for name in try FileSystem.list(walDirectory) {
            if let first = WALFormat.firstSequence(ofFileNamed: name), first < sequence {
                try FileSystem.remove(StoreLayout.path(name, in: walDirectory))
            }
        }
    }

    // MARK: - Reading

    /// A consistent view of everything acknowledged so far.
    public func snapshot() -> StoreSnapshot {
        let p = published.withLock { $0 }
        return StoreSnapshot(catalog: p.catalog, segments: p.segments, rollupFiles: p.rollupFiles, head: p.head, missedSlots: p.missed) { [weak self] seg, err in
            self?.quarantine(seg, because: err)
        }
    }

    /// Moves a damaged segment out of service; the next snapshots no longer include it.
    func quarantine(_ segment: Segment, because error: StorageError) {
        guard error.code == .corruption else { return }
        published.withLock { p in
            guard p.segments.contains(where: { $0 === segment }) || p.rollupFiles.contains(where: { $0 === segment }) else { return }
            let name = String(segment.path.split(separator: "/").last ?? "")
            if (try? FileSystem.rename(segment.path, StoreLayout.path(name, in: quarantineDirectory))) != nil {
                p.segments.removeAll { $0 === segment }
                p.rollupFiles.removeAll { $0 === segment }
                logger.error("segment quarantined", metadata: ["segment": "\(segment.path)", "error": "\(error)"])
            }
        }
    }

    // MARK: - Closing

    /// Cuts the head, syncs and releases the directory. Further calls fail with `.closed`.
    public func close() throws(StorageError) {
        try writer.withLock { (w: inout WriterState) throws(StorageError) in
            guard !isClosed else { return }
            try cutSynchronously(writer: &w, dropWAL: true)
            try w.wal.close()
            cutter.withLock { $0 }?.stop()
            published.withLock { $0.closed = true }
            lock.release()
        }
    }

    /// A store dropped without `close()` is, for its data, a crash: the head stays in the WAL.
    /// A cut in flight holds the store until it is written, so the directory stays locked until
    /// then; `waitForCuts()` first makes the release immediate.
    deinit {
        cutter.withLock { $0 }?.stop()
    }
}

extension RunTable {
    /// Orders runs by start time (stable), keeping each run's probes.
    mutating func sortByStart() {
        var sorted = true
        for i in runs.indices.dropFirst() where runs[i].startMicros < runs[i - 1].startMicros {
            sorted = false
            break
        }
        guard !sorted else { return }
        let order = runs.indices.sorted { (runs[$0].startMicros, $0) < (runs[$1].startMicros, $1) }
        var out = RunTable()
        out.reserveCapacity(runs: runs.count, probes: probes.count)
        for i in order { out.append(runs[i], from: self) }
        self = out
    }
}

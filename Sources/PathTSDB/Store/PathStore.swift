#if canImport(Glibc)
import Glibc
#endif
public import Logging
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
    /// The store's data directory.
    public let directory: String
    /// The options the store was opened with.
    public let options: StoreOptions
    /// What opening found before WAL replay; `recovery` adds the replay.
    let openReport: RecoveryReport

    /// Opened with `init(readingOnly:)`: beside the writer, which it never disturbs.
    public let isReadOnly: Bool
    /// The writer's lock; none for a reader.
    private let lock: DirectoryLock?
    let writer: Mutex<WriterState>
    /// The writer's WAL's group commit, waited on outside the writer lock.
    let groupCommit: WALGroupCommit
    let published: Mutex<Published>
    /// Written by whoever cuts: the cutter thread, or the writer for a synchronous cut. None for a
    /// reader.
    let catalogFile: Mutex<CatalogFile?>
    let cutter: Mutex<SegmentCutter?> = Mutex(nil)
    /// The writes failing now, by kind, each cleared by the next that succeeds.
    let failures: Mutex<WriteFailures> = Mutex(WriteFailures())
    /// `quarantinedFiles` as last read, with the directory listing it was read from: every query
    /// answer asks, and the files only change when the listing does.
    let quarantineCache: Mutex<(names: [String], files: [QuarantinedFile])> = Mutex(([], []))
    /// Segments a reader found damaged while the writer lock was taken (by the reader's own
    /// thread, appending, or by another): set aside by the next writer step.
    let pendingSetAsides: Mutex<[(Segment, StorageError)]> = Mutex([])
    /// `missed.ptm`; its lock also orders appends to `published.missed`. None for a reader.
    let missedFile: Mutex<MissedSlotFile?>
    let logger: Logger
    /// What WAL replay found, added to `openReport` by `recovery`.
    let extraReport = Mutex(RecoveryReport())

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
        /// Which runs the store holds, for keeping each once.
        var identities = RunIdentityIndex()
        /// Probes appended since the last cut began.
        var uncutProbes = 0
        var nextSegmentID: SegmentID
    }

    /// Where the store's files are.
    package var layout: StoreLayout { StoreLayout(directory: directory) }
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
        isReadOnly = false
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
        self.missedFile = Mutex(Optional(missedFile))

        var damaged = [(Segment, StorageError)]()
        var segments = try PathStore.loadSegments(in: layout.segments, quarantine: layout.quarantine,
                                                  verify: options.verifySegmentsOnOpen, report: &report, damaged: &damaged)
        var rollupFiles = try PathStore.loadSegments(in: layout.rollups, quarantine: layout.quarantine,
                                                     verify: options.verifySegmentsOnOpen, report: &report, damaged: &damaged)
        // A finished compaction lists its inputs; a finished retention step names its segment.
        // Removed before any salvage: a salvage of a replaced segment would hold its runs twice.
        let superseded = Set(segments.flatMap(\.sources) + rollupFiles.flatMap(\.sources))
        // (A rollup file is replaced only by its salvage.)
        for seg in segments + rollupFiles where superseded.contains(seg.id) {
            try FileSystem.remove(seg.path)
            report.removedLeftovers.append(seg.path)
        }
        segments.removeAll { superseded.contains($0.id) }
        rollupFiles.removeAll { superseded.contains($0.id) }
        var nextID = PathStore.nextSegmentID(layout)
        for (seg, error) in damaged where !superseded.contains(seg.id) {
            try PathStore.checkCatalogCovers(seg, catalog: catalog)
            let outcome = PathStore.setAside(seg, because: error, catalog: catalog, id: nextID, options: options,
                                             quarantine: layout.quarantine, logger: logger)
            nextID = nextID.next
            guard outcome != .kept else { continue }
            report.quarantined.append(StoreLayout.path(String(seg.path.split(separator: "/").last ?? ""), in: layout.quarantine))
            for i in segments.indices.reversed() where segments[i] === seg { segments.remove(at: i) }
            for i in rollupFiles.indices.reversed() where rollupFiles[i] === seg { rollupFiles.remove(at: i) }
            if case .replaced(let replacement) = outcome {
                if seg.level == SegmentFormat.rollupOnlyLevel { rollupFiles.append(replacement) } else { segments.append(replacement) }
            }
        }
        segments.sort { $0.minStartMicros < $1.minStartMicros }
        rollupFiles.sort { $0.minStartMicros < $1.minStartMicros }

        let (highWater, detector) = PathStore.resumePoint(of: segments, report: &report)
        for seg in segments { try PathStore.checkCatalogCovers(seg, catalog: catalog) }

        let wal = WALWriter(directory: layout.wal, nextSequence: highWater.next, syncPolicy: options.walSync,
                            fileSizeLimit: options.walFileBytes)
        var state = WriterState(wal: wal, ingester: HeadIngester(catalog: catalog, detector: detector), nextSegmentID: nextID)
        for seg in segments { state.identities.note(seg) }
        groupCommit = wal.groupCommit
        writer = Mutex(state)
        self.catalogFile = Mutex(Optional(catalogFile))
        published = Mutex(Published(catalog: catalog, segments: segments, rollupFiles: rollupFiles, head: [], missed: missed))
        openReport = report
        try replayWAL(after: highWater)
        if options.backgroundCuts {
            let cutter = SegmentCutter { [weak self] job in self?.performBackgroundCut(job) }
            self.cutter.withLock { $0 = cutter }
        }
    }

    /// Opens the store in `directory` for reading only, beside its writer (a running `serve` or
    /// `monitor`), as SQLite's and Prometheus's read-only opens do: no lock is taken and no
    /// file is created, changed, cut or moved. The view holds every run acknowledged before the
    /// open, WAL included; a record the writer is appending at that moment may be left out.
    /// Damage is reported in `recovery`, not repaired (the writer does that).
    /// - Throws: `.notFound` when `directory` holds no store; `.io` when the writer changed the
    ///   segments at every one of several attempts to read a consistent set.
    public init(readingOnly directory: String, options: StoreOptions = StoreOptions(), logger: Logger = Logger(label: "pathtsdb")) throws(StorageError) {
        let view = try PathStore.readConsistentView(StoreLayout(directory: directory), options: options)
        self.directory = directory
        self.options = options
        self.logger = logger
        isReadOnly = true
        lock = nil
        catalogFile = Mutex(nil)
        missedFile = Mutex(nil)
        let wal = WALWriter(directory: view.layout.wal, nextSequence: view.lastSequence.next, syncPolicy: .never,
                            fileSizeLimit: options.walFileBytes)
        groupCommit = wal.groupCommit
        writer = Mutex(WriterState(wal: wal,
                                   ingester: view.ingester,
                                   nextSegmentID: SegmentID(rawValue: 0)))  // never used: a reader cuts no segment
        published = Mutex(Published(catalog: view.ingester.catalog, segments: view.segments, rollupFiles: view.rollupFiles,
                                    head: view.head, missed: view.missed))
        openReport = view.report
    }

    // MARK: - Reading

    /// A consistent view of everything acknowledged so far.
    public func snapshot() -> StoreSnapshot {
        let p = published.withLock { $0 }
        return StoreSnapshot(catalog: p.catalog, segments: p.segments, rollupFiles: p.rollupFiles, head: p.head, missedSlots: p.missed) { [weak self] seg, err in
            self?.quarantine(seg, because: err)
        }
    }

    // MARK: - Closing

    /// Cuts the head, syncs and releases the directory. Further calls fail with `.closed`.
    public func close() throws(StorageError) {
        if isReadOnly {
            published.withLock { $0.closed = true }
            return
        }
        try writer.withLock { (w: inout WriterState) throws(StorageError) in
            guard !isClosed else { return }
            try cutSynchronously(writer: &w, dropWAL: true)
            try w.wal.close()
            cutter.withLock { $0 }?.stop()
            published.withLock { $0.closed = true }
            lock?.release()
        }
    }

    /// A store dropped without `close()` is, for its data, a crash: the head stays in the WAL.
    /// A cut in flight holds the store until it is written, so the directory stays locked until
    /// then; `waitForCuts()` first makes the release immediate.
    deinit {
        cutter.withLock { $0 }?.stop()
    }
}

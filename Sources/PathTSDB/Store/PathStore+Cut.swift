import Logging
import Synchronization

/// Head cuts: the head written as an immutable segment, on the cutter thread or right here, and
/// the WAL files it covered removed.
extension PathStore {
    /// Cuts the head into a segment now, whatever its size, and waits for it to be on disk.
    public func flush() throws(StorageError) {
        guard !isReadOnly else { throw PathStore.readOnlyError(directory) }
        try writer.withLock { (w: inout WriterState) throws(StorageError) in try cutSynchronously(writer: &w, dropWAL: true) }
    }

    /// Waits until the cut in flight, if any, is on disk and published.
    package func waitForCuts() {
        cutter.withLock { $0 }?.waitUntilIdle()
    }

    /// Hands the whole head to the cutter thread (or cuts it here, without one). With a cut
    /// already in flight, the head keeps growing, up to twice the cut size; then the writer
    /// waits for the cutter, which bounds memory.
    func startCut(writer w: inout WriterState) throws(StorageError) {
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
    func makeCutJob(writer w: inout WriterState, rotateWAL: Bool) throws(StorageError) -> CutJob? {
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
    func cutSynchronously(writer w: inout WriterState, dropWAL: Bool) throws(StorageError) {
        cutter.withLock { $0 }?.waitUntilIdle()
        guard let job = try makeCutJob(writer: &w, rotateWAL: dropWAL) else { return }
        do throws(StorageError) {
            try performCut(job)
            failures.withLock { $0.cut = nil }
        } catch {
            failures.withLock { $0.cut = error }
            w.uncutProbes = published.withLock { $0.head.reduce(0) { $0 + $1.table.probes.count } }
            throw error
        }
    }

    func performBackgroundCut(_ job: CutJob) {
        do throws(StorageError) {
            try performCut(job)
            failures.withLock { $0.cut = nil }
        } catch {
            failures.withLock { $0.cut = error }
            // The blocks stay in the head; the next cut takes them along.
            logger.error("cutting the head into a segment failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Writes a cut as a level-0 segment: catalog first, then the segment, then the head blocks
    /// leave the head and the WAL files before the cut's rotation go.
    func performCut(_ job: CutJob) throws(StorageError) {
        guard let lastBlock = job.blocks.last else { return }
        let catalog = job.catalog
        try catalogFile.withLock { (file: inout CatalogFile?) throws(StorageError) in try file?.persist(catalog) }

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

    func dropWALFiles(before sequence: WALSequence) throws(StorageError) {
        for name in try FileSystem.list(walDirectory) {
            if let first = WALFormat.firstSequence(ofFileNamed: name), first < sequence {
                try FileSystem.remove(StoreLayout.path(name, in: walDirectory))
            }
        }
    }
}

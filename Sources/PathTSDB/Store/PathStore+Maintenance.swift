#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// Compaction, retention and disk accounting.
///
/// Both compaction and retention write their output completely (fsync, rename, directory fsync)
/// before they remove their inputs, and the output names the inputs it replaces. A kill at any
/// instant therefore leaves either the inputs alone, or the output and some inputs, which the
/// next open removes: no data is lost and none is counted twice.
extension PathStore {
    /// Bytes on disk and what they hold.
    public struct DiskUsage: Sendable {
        /// Bytes of the raw segments (`segments/`).
        public var segmentBytes: Int64 = 0
        /// Bytes of the rollup files (`rollups/`).
        public var rollupBytes: Int64 = 0
        /// Bytes of the WAL files not yet cut into segments (`wal/`).
        public var walBytes: Int64 = 0
        /// Bytes of `catalog.ptc`, the dictionary of names, addresses and paths.
        public var catalogBytes: Int64 = 0
        /// Runs held in segments and the head.
        public var runs = 0
        /// Probes held, lost ones included.
        public var probes = 0
        /// Probes held that were answered: the RTT samples.
        public var samples = 0
        /// Every byte the store holds on disk.
        public var totalBytes: Int64 { segmentBytes + rollupBytes + walBytes + catalogBytes }
    }

    /// What the store holds and the bytes it takes, by kind of file.
    public func diskUsage() throws(StorageError) -> DiskUsage {
        var u = DiskUsage()
        for name in try FileSystem.list(segmentsDirectory) { u.segmentBytes += FileSystem.fileSize(StoreLayout.path(name, in: segmentsDirectory)) }
        for name in try FileSystem.list(rollupsDirectory) { u.rollupBytes += FileSystem.fileSize(StoreLayout.path(name, in: rollupsDirectory)) }
        for name in try FileSystem.list(walDirectory) { u.walBytes += FileSystem.fileSize(StoreLayout.path(name, in: walDirectory)) }
        u.catalogBytes = FileSystem.fileSize(layout.catalog)
        let snap = snapshot()
        for s in snap.segments {
            u.runs += s.runCount
            u.probes += s.probeCount
            u.samples += s.sampleCount
        }
        for b in snap.head {
            u.runs += b.table.runs.count
            u.probes += b.table.probes.count
            u.samples += b.table.probes.reduce(0) { $0 + ($1.isLoss ? 0 : 1) }
        }
        return u
    }

    // MARK: - Compaction

    /// Merges segments whose data starts in the same aligned window, level by level (one window
    /// size per level in `options.compactionWindows`). Only windows that have closed, that is
    /// that end before the newest data, are merged, so live data is not rewritten again and again.
    /// - Returns: the number of segments written.
    /// - Parameter includeOpenWindows: merge the newest, still open windows too (for a store
    ///   that was loaded from files and will not grow).
    @discardableResult
    public func compact(includeOpenWindows: Bool = false, progress: (String) -> Void = { _ in }) throws(StorageError) -> Int {
        guard !isReadOnly else { throw PathStore.readOnlyError(directory) }
        return try writer.withLock { (w: inout WriterState) throws(StorageError) -> Int in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            setAsidePending(writer: &w)
            var written = 0
            for (i, window) in options.compactionWindows.enumerated() {
                let level = UInt8(i + 1)
                let windowMicros = window.micros
                guard windowMicros > 0 else { continue }
                let last = i == options.compactionWindows.count - 1
                let (segments, head) = published.withLock { ($0.segments, $0.head) }
                var newest = segments.map(\.maxStartMicros).max() ?? .min
                for b in head { if let t = b.table.runs.last?.startMicros { newest = max(newest, t) } }
                var groups = [Int64: [Segment]]()
                for s in segments where s.level < level {
                    groups[TimeArithmetic.floorDivide(s.minStartMicros, by: windowMicros), default: []].append(s)
                }
                for key in groups.keys.sorted() {
                    guard let group = groups[key], group.count >= 2, includeOpenWindows || (key + 1) * windowMicros <= newest else { continue }
                    progress("level \(level): merging \(group.count) segments")
                    do throws(StorageError) {
                        try merge(group, level: level, zstdLevel: last ? options.zstdLevelCompacted : options.zstdLevelFresh, writer: &w)
                        written += 1
                    } catch where error.code == .corruption {
                        // The damaged input is quarantined by now; the rest of its window is
                        // merged on the next run, and other windows go ahead.
                        logger.error("compaction skipped a window with a damaged segment", metadata: ["error": "\(error)"])
                    }
                }
            }
            return written
        }
    }

    private func merge(_ inputs: [Segment], level: UInt8, zstdLevel: Int32, writer w: inout WriterState) throws(StorageError) {
        let catalog = w.ingester.catalog
        let id = w.nextSegmentID
        w.nextSegmentID = w.nextSegmentID.next
        let sw = try SegmentWriter(directory: segmentsDirectory, id: id, level: level, zstdLevel: zstdLevel)
        var events = [PathChangeEvent]()
        do throws(StorageError) {
            let targets = Set(inputs.flatMap(\.targets)).sorted()
            for t in targets {
                var table = RunTable()
                var rollups = [[RollupRow]]()
                for s in inputs {
                    let part: RunTable
                    do {
                        part = try s.runs(of: t, catalog: catalog)
                        rollups.append(try s.rollups(of: t))
                    } catch {
                        setAside(s, because: error, writer: &w)
                        throw StorageError(error.code, "merging \(inputs.count) segments into level \(level) stopped at target \(t.rawValue): segment \(s.id) is damaged",
                                           file: s.path, cause: error)
                    }
                    for r in part.runs { table.append(r, from: part) }
                }
                table.sortByStart()
                // The inputs' hop rollups merge exactly; no need to rebuild them from the values.
                // The end-to-end rows are rebuilt from the merged runs: a run's destination
                // probes depend on the runs before it (EndToEnd), and the first runs of a later
                // input now have those.
                let hopRows = RollupBuilder.merge(rollups).filter { $0.ttl != 0 }
                let endRows = RollupBuilder.rows(target: t, runs: table.runs, probes: table.probes, tiers: RollupTier.storedWithSegments)
                    .filter { $0.ttl == 0 }
                let merged = (hopRows + endRows).sorted { ($0.tier, $0.ttl, $0.bucketMicros) < ($1.tier, $1.ttl, $1.bucketMicros) }
                try sw.add(SegmentTargetInput(target: t, table: table, rollups: merged), catalog: catalog)
            }
            for s in inputs {
                do { events += try s.events() } catch {
                    setAside(s, because: error, writer: &w)
                    throw error
                }
            }
        } catch {
            sw.abandon()
            throw error
        }
        events.sort { ($0.timeMicros, $0.target) < ($1.timeMicros, $1.target) }
        let newestInput = inputs.max { $0.walHighWater < $1.walHighWater }
        let state: PathChangeDetector
        do { state = try newestInput?.detectorState() ?? PathChangeDetector() } catch {
            sw.abandon()
            if let newestInput { setAside(newestInput, because: error, writer: &w) }
            throw error
        }
        // Every ancestor, not only the direct inputs: files an interrupted earlier step left
        // behind are recognised however many merges ago they were replaced.
        let ancestry = Set(inputs.flatMap { [$0.id] + $0.sources }).sorted()
        let path = try sw.finish(events: events, state: state, walHighWater: newestInput?.walHighWater ?? .none,
                                 sources: ancestry)
        let merged = try Segment(path: path, verifyBlocks: false)
        let ids = Set(inputs.map(\.id))
        published.withLock {
            $0.segments.removeAll { ids.contains($0.id) }
            $0.segments.append(merged)
            $0.segments.sort { $0.minStartMicros < $1.minStartMicros }
        }
        for s in inputs { try FileSystem.remove(s.path) }
        try FileSystem.syncDirectory(segmentsDirectory)
    }

    // MARK: - Retention

    /// Drops raw segments whose newest run is older than `options.rawRetention` before `now`,
    /// each only after its rollups (5 minutes, 1 hour, 1 day) are written to a rollup-only file.
    /// - Parameter now: microseconds since the epoch; the wall clock when nil.
    /// - Returns: the number of segments dropped.
    @discardableResult
    public func applyRetention(now: Int64? = nil) throws(StorageError) -> Int {
        guard !isReadOnly else { throw PathStore.readOnlyError(directory) }
        guard let retention = options.rawRetention else { return 0 }
        let nowMicros = now ?? WallClock.nowMicros()
        let cutoff = nowMicros - retention.micros
        return try writer.withLock { (w: inout WriterState) throws(StorageError) -> Int in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            setAsidePending(writer: &w)
            let segments = published.withLock { $0.segments }
            var dropped = 0
            for seg in segments where seg.maxStartMicros < cutoff {
                try retire(seg, writer: &w)
                dropped += 1
            }
            // Missed slots go with the raw data of their time.
            try missedFile.withLock { (file: inout MissedSlotFile?) throws(StorageError) in
                let all = published.withLock { $0.missed }
                guard all.contains(where: { $0.slotMicros < cutoff }), let file else { return }
                let kept = all.filter { $0.slotMicros >= cutoff }
                try file.rewrite(kept, directory: directory)
                published.withLock { $0.missed = kept }
            }
            return dropped
        }
    }

    private func retire(_ seg: Segment, writer w: inout WriterState) throws(StorageError) {
        let catalog = w.ingester.catalog
        let id = w.nextSegmentID
        w.nextSegmentID = w.nextSegmentID.next
        let sw = try SegmentWriter(directory: rollupsDirectory, id: id, level: SegmentFormat.rollupOnlyLevel,
                                   zstdLevel: options.zstdLevelCompacted)
        do throws(StorageError) {
            for t in seg.targets {
                guard let e = seg.entry(for: t) else { continue }
                let table: RunTable
                var rows: [RollupRow]
                do {
                    table = try seg.runs(of: t, catalog: catalog)
                    rows = seg.version >= SegmentFormat.endToEndRollupVersion ? try seg.rollups(of: t) : []
                } catch {
                    setAside(seg, because: error, writer: &w)
                    throw error
                }
                if seg.version >= SegmentFormat.endToEndRollupVersion {
                    rows += RollupBuilder.rows(target: t, runs: table.runs, probes: table.probes, tiers: [.fiveMinutes])
                } else {
                    // Written before the end-to-end rows: every tier again from the runs, with them.
                    rows = RollupBuilder.rows(target: t, runs: table.runs, probes: table.probes,
                                              tiers: [.fiveMinutes] + RollupTier.storedWithSegments)
                }
                rows.sort { ($0.tier, $0.ttl, $0.bucketMicros) < ($1.tier, $1.ttl, $1.bucketMicros) }
                try sw.addRollups(target: t, rows: rows, minStartMicros: e.minStartMicros, maxStartMicros: e.maxStartMicros)
            }
        } catch {
            sw.abandon()
            throw error
        }
        let path = try sw.finish(events: try seg.events(), state: PathChangeDetector(), walHighWater: seg.walHighWater, sources: [seg.id] + seg.sources)
        let rollupFile = try Segment(path: path, verifyBlocks: false)
        published.withLock {
            $0.segments.removeAll { $0 === seg }
            $0.rollupFiles.append(rollupFile)
        }
        try FileSystem.remove(seg.path)
        try FileSystem.syncDirectory(segmentsDirectory)
    }
}

extension Duration {
    /// Whole microseconds.
    var micros: Int64 {
        let c = components
        return c.seconds * 1_000_000 + c.attoseconds / 1_000_000_000_000
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A reader's open (`PathStore.init(readingOnly:)`): the files read as they are, beside a
/// writer that keeps appending, cutting and compacting.
///
/// The writer changes the set of segments only by renaming a finished file in (a cut, a merge)
/// and by deleting what that file replaced (merged inputs, WAL files a cut covered). So a reader
/// lists the segments, reads them, the catalog, the missed slots and the WAL, and lists the
/// segments again: the same list means that what it read is one consistent state, since no WAL
/// file it needed can have gone without a new segment appearing. A different list, or a file
/// gone under it, and it reads again.
extension PathStore {
    /// What a reader's open read.
    struct ReadOnlyView {
        var layout: StoreLayout
        var segments: [Segment]
        var rollupFiles: [Segment]
        var ingester: HeadIngester
        var head: [HeadBlock]
        var missed: [MissedSlot]
        var lastSequence: WALSequence
        var report: RecoveryReport
    }

    /// How many times a reader's open reads again before it gives up on a writer that keeps
    /// changing the segments.
    static let readOnlyAttempts = 8

    static func readOnlyError(_ directory: String) -> StorageError {
        StorageError(.readOnly, "the store was opened for reading only", file: directory)
    }

    static func readConsistentView(_ layout: StoreLayout, options: StoreOptions) throws(StorageError) -> ReadOnlyView {
        guard layout.exists else {
            throw StorageError(.notFound, "no SmokeTrace store here (no catalog.ptc)", file: layout.directory)
        }
        for _ in 0..<readOnlyAttempts {
            if let view = try readView(layout, options: options) { return view }
        }
        throw StorageError(.io, "the writer changed the segments during each of \(readOnlyAttempts) attempts to read them; try again",
                           file: layout.directory)
    }

    /// The segment files of both directories, by path.
    private static func segmentFiles(_ layout: StoreLayout) throws(StorageError) -> [String] {
        var out = [String]()
        for dir in [layout.segments, layout.rollups] {
            for name in try FileSystem.list(dir) where SegmentFormat.id(ofFileNamed: name) != nil {
                out.append(StoreLayout.path(name, in: dir))
            }
        }
        return out
    }

    /// One attempt; nil when the writer changed something under it.
    private static func readView(_ layout: StoreLayout, options: StoreOptions) throws(StorageError) -> ReadOnlyView? {
        var report = RecoveryReport()
        let before = try segmentFiles(layout)
        var segments = [Segment](), rollupFiles = [Segment]()
        for path in before {
            do {
                let segment = try Segment(path: path, verifyBlocks: false)
                // Damaged blocks cost what they hold: the rest of the segment stays readable.
                if options.verifySegmentsOnOpen { report.problems += segment.damagedBlocks().map(\.error) }
                if path.hasPrefix(layout.rollups + "/") { rollupFiles.append(segment) } else { segments.append(segment) }
            } catch {
                // Merged away since the listing: read again. Otherwise damage, left to the writer.
                guard FileSystem.exists(path) else { return nil }
                report.problems.append(error)
            }
        }
        let superseded = Set(segments.flatMap(\.sources) + rollupFiles.flatMap(\.sources))
        segments.removeAll { superseded.contains($0.id) }
        rollupFiles.removeAll { superseded.contains($0.id) }
        segments.sort { $0.minStartMicros < $1.minStartMicros }
        rollupFiles.sort { $0.minStartMicros < $1.minStartMicros }

        // The catalog after the segments: it only grows, and the writer persists what a segment
        // refers to before renaming the segment in.
        let catalog = try CatalogFile.read(path: layout.catalog)
        for seg in segments + rollupFiles { try checkCatalogCovers(seg, catalog: catalog) }
        let missed = try MissedSlotFile.read(path: layout.missed)

        let (highWater, detector) = resumePoint(of: segments, report: &report)
        var ingester = HeadIngester(catalog: catalog, detector: detector)
        var head = [HeadBlock]()
        var last = highWater
        let walFiles = try FileSystem.list(layout.wal).filter { WALFormat.firstSequence(ofFileNamed: $0) != nil }
        for (i, name) in walFiles.enumerated() {
            let path = StoreLayout.path(name, in: layout.wal)
            let bytes: [UInt8]
            do {
                bytes = try PosixFile(path: path, flags: O_RDONLY).readAll()
            } catch {
                // Dropped after a cut since the listing: read again.
                guard FileSystem.exists(path) else { return nil }
                throw error
            }
            let contents = WALReader.read(path: path, bytes: bytes)
            report.problems += contents.sequenceProblems
            if let gap = walGap(before: contents, after: last, path: path) { report.problems.append(gap) }
            for record in contents.records where record.sequence > last {
                head.append(ingester.ingest(record.runs, walSequence: record.sequence))
                last = record.sequence
                report.replayedRecords += 1
            }
            // The newest file's tail may be a record being appended right now.
            if let problem = contents.problem, i < walFiles.count - 1 || contents.headerDamaged {
                report.problems.append(problem)
            }
        }
        guard try segmentFiles(layout) == before else { return nil }
        return ReadOnlyView(layout: layout, segments: segments, rollupFiles: rollupFiles, ingester: ingester, head: head,
                            missed: missed, lastSequence: last, report: report)
    }
}

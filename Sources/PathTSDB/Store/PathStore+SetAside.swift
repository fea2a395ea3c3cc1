#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// Taking a damaged segment out of service at the least cost: what still reads of it is
/// rewritten into a new segment (`SegmentSalvage`) and the original moved to `quarantine/` with
/// a record of what was lost, so that one damaged chunk costs one target's runs of the segment's
/// span, not its other targets'.
extension PathStore {
    /// The id after every segment file's in the store, quarantined ones included.
    static func nextSegmentID(_ layout: StoreLayout) -> SegmentID {
        let names = ((try? FileSystem.list(layout.segments)) ?? []) + ((try? FileSystem.list(layout.rollups)) ?? [])
            + ((try? FileSystem.list(layout.quarantine)) ?? [])
        return (names.compactMap { SegmentFormat.id(ofFileNamed: String($0.prefix(20))) }.max() ?? SegmentID(rawValue: 0)).next
    }

    /// What setting a segment aside did.
    enum SetAsideOutcome: Equatable {
        /// Salvaged into this segment; the original quarantined.
        case replaced(Segment)
        /// Nothing of it read, or its salvage could not be written: quarantined whole.
        case quarantinedWhole
        /// Reading it for the salvage failed for another reason than damage (an I/O error):
        /// left in service, as it was, rather than have a passing failure cost its data.
        case kept

        static func == (a: SetAsideOutcome, b: SetAsideOutcome) -> Bool {
            switch (a, b) {
            case (.replaced(let x), .replaced(let y)): x === y
            case (.quarantinedWhole, .quarantinedWhole), (.kept, .kept): true
            default: false
            }
        }
    }

    /// Salvages `segment` into segment `id` and moves the original to `quarantine` with its
    /// cause and what the salvage lost. The replacement is durable before the original moves.
    static func setAside(_ segment: Segment, because error: StorageError, catalog: Catalog, id: SegmentID, options: StoreOptions,
                         quarantine: String, logger: Logger) -> SetAsideOutcome {
        var salvage = SegmentSalvage()
        do {
            salvage = try SegmentSalvage.rewrite(segment, catalog: catalog, id: id,
                                                 zstdLevel: segment.level == 0 ? options.zstdLevelFresh : options.zstdLevelCompacted)
        } catch where error.code != .corruption && error.code != .diskFull {
            logger.error("a damaged segment could not be read for its salvage; it stays in service", metadata: ["segment": "\(segment.path)", "error": "\(error)"])
            return .kept
        } catch {
            logger.error("a damaged segment could not be salvaged; it is quarantined whole", metadata: ["segment": "\(segment.path)", "error": "\(error)"])
        }
        var replacement: Segment?
        if let path = salvage.replacement {
            do { replacement = try Segment(path: path, verifyBlocks: false) } catch {
                logger.error("a salvaged segment does not open; it is quarantined whole", metadata: ["segment": "\(path)", "error": "\(error)"])
                try? FileSystem.remove(path)
                salvage = SegmentSalvage()
            }
        }
        let cause = replacement == nil ? [] : salvage.causeLines
        do {
            _ = try moveToQuarantine(segment.path, directory: quarantine, because: error, details: cause)
        } catch {
            // The replacement names the original among its sources: the next open removes it.
            logger.error("a damaged segment could not be moved to quarantine", metadata: ["segment": "\(segment.path)", "error": "\(error)"])
        }
        if let replacement {
            logger.error("segment damaged: what still reads was salvaged, the original quarantined", metadata: [
                "segment": "\(segment.path)", "salvaged-into": "\(replacement.path)", "error": "\(error)",
                "lost-runs-of-targets": "\(salvage.lostRuns.count)", "lost-events": "\(salvage.lostEvents)"])
            return .replaced(replacement)
        }
        logger.error("segment quarantined", metadata: ["segment": "\(segment.path)", "error": "\(error)"])
        return .quarantinedWhole
    }

    /// Takes a segment a reader found damaged out of service; the next snapshots hold its
    /// salvage instead. A reader may find damage while the writer lock is held (by its own
    /// thread: an append compares a batch with the stored runs; or by another); the segment then
    /// waits for the next writer step (`setAsidePending`).
    func quarantine(_ segment: Segment, because error: StorageError) {
        // A reader leaves files to the writer; the damage is in the error the query returns.
        guard error.code == .corruption, !isReadOnly else { return }
        pendingSetAsides.withLock { pending in
            if !pending.contains(where: { $0.0 === segment }) { pending.append((segment, error)) }
        }
        writer.withLockIfAvailable { (w: inout WriterState) in setAsidePending(writer: &w) }
    }

    /// Sets aside every segment found damaged since the last call.
    func setAsidePending(writer w: inout WriterState) {
        let pending = pendingSetAsides.withLock { p in
            defer { p.removeAll() }
            return p
        }
        guard !pending.isEmpty else { return }
        for (segment, error) in pending { setAside(segment, because: error, writer: &w) }
    }

    /// `setAside` for a segment in service, under the writer lock: the snapshots taken from here
    /// on hold the replacement instead of it.
    func setAside(_ segment: Segment, because error: StorageError, writer w: inout WriterState) {
        guard error.code == .corruption, !isReadOnly, !isClosed else { return }
        let inService = published.withLock { p in
            p.segments.contains { $0 === segment } || p.rollupFiles.contains { $0 === segment }
        }
        guard inService else { return }
        let id = w.nextSegmentID
        w.nextSegmentID = w.nextSegmentID.next
        let catalog = w.ingester.catalog
        let outcome = PathStore.setAside(segment, because: error, catalog: catalog, id: id, options: options,
                                         quarantine: quarantineDirectory, logger: logger)
        guard outcome != .kept else { return }
        published.withLock { p in
            p.segments.removeAll { $0 === segment }
            p.rollupFiles.removeAll { $0 === segment }
            if case .replaced(let replacement) = outcome {
                if segment.level == SegmentFormat.rollupOnlyLevel {
                    p.rollupFiles.append(replacement)
                    p.rollupFiles.sort { $0.minStartMicros < $1.minStartMicros }
                } else {
                    p.segments.append(replacement)
                    p.segments.sort { $0.minStartMicros < $1.minStartMicros }
                }
            }
        }
    }
}

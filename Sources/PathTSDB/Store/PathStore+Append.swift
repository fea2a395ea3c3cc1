import Logging
import Synchronization

/// The write path: a batch goes to the WAL, then into the head, visible to the next snapshot.
extension PathStore {
    /// Appends runs. When this returns, the runs are in the WAL (synced as `options.walSync`
    /// says) and visible to new snapshots.
    /// - Returns: the batch as the store holds it (catalog ids, path ids), for a reader that
    ///   wants the new runs without reading them back (the alert engine).
    /// - Throws: `.invalidArgument` for a run the store cannot hold (nothing is written then);
    ///   `.diskFull` or `.io` when the WAL write fails (nothing of the batch is acknowledged, and
    ///   nothing acknowledged before is touched).
    @discardableResult
    public func append(_ runs: [TraceRun]) throws(StorageError) -> RunTable {
        guard !isReadOnly else { throw PathStore.readOnlyError(directory) }
        guard !runs.isEmpty else { return RunTable() }
        for r in runs { try r.validate() }
        return try writer.withLock { (w: inout WriterState) throws(StorageError) -> RunTable in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            let seq: WALSequence
            do throws(StorageError) {
                seq = try w.wal.append(runs)
                failures.withLock { $0.wal = nil }
            } catch {
                failures.withLock { $0.wal = error }
                throw error
            }
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
        try missedFile.withLock { (file: inout MissedSlotFile?) throws(StorageError) in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            guard let file else { throw PathStore.readOnlyError(directory) }
            do throws(StorageError) {
                try file.append(slots)
                failures.withLock { $0.missedSlots = nil }
            } catch {
                failures.withLock { $0.missedSlots = error }
                throw error
            }
            published.withLock { $0.missed += slots }
        }
    }

    func publishHeadBlock(_ block: HeadBlock, writer w: inout WriterState) {
        w.uncutProbes += block.table.probes.count
        let catalog = w.ingester.catalog
        published.withLock {
            $0.head.append(block)
            $0.catalog = catalog
        }
    }
}

/// What the store failed to write and has not written since: a full disk or a failing device,
/// which `writeFailure` reports so that a server can say it is degraded rather than "ok".
struct WriteFailures: Sendable {
    /// The last WAL append failed: runs are being refused.
    var wal: StorageError?
    /// The last cut failed: runs are acknowledged (in the WAL) but the head keeps growing.
    var cut: StorageError?
    /// The last missed-slot write failed.
    var missedSlots: StorageError?
}

extension PathStore {
    /// The write failing now (the WAL's first, then a cut's, then the missed-slot file's), nil
    /// while every kind of write succeeds. Each kind clears when its next write succeeds.
    package var writeFailure: StorageError? {
        failures.withLock { $0.wal ?? $0.cut ?? $0.missedSlots }
    }
}

import Logging
import Synchronization

/// The write path: a batch goes to the WAL, then into the head, visible to the next snapshot.
extension PathStore {
    /// Appends runs, each once: a run whose identity (target, vantage point, method, flow and
    /// start time) the store already holds, or that an earlier run of the batch repeats, is not
    /// stored again. When this returns, the runs are in the WAL (synced as `options.walSync`
    /// says) and visible to new snapshots.
    /// - Returns: the runs stored, as the store holds them (catalog ids, path ids), for a reader
    ///   that wants the new runs without reading them back (the alert engine); fewer than
    ///   `runs` when some were held already.
    /// - Throws: `.invalidArgument` for a run the store cannot hold (nothing is written then);
    ///   `.diskFull` or `.io` when the WAL write or its sync fails (nothing of the batch is
    ///   acknowledged, and nothing acknowledged before is touched).
    @discardableResult
    public func append(_ runs: [TraceRun]) throws(StorageError) -> RunTable {
        try appendReporting(runs).table
    }

    /// What `appendReporting` stored and what it did not.
    package struct AppendResult: Sendable {
        /// The runs stored, as `append` returns them.
        package var table: RunTable
        /// The indices, ascending, of the batch's runs not stored because the store held them.
        package var duplicates: [Int]

        /// The indices, ascending, of the batch's runs stored (`table`'s runs, in order) out of a
        /// batch of `count`.
        package func storedIndices(of count: Int) -> [Int] {
            var out = [Int](), held = duplicates[...]
            out.reserveCapacity(count - duplicates.count)
            for i in 0..<count {
                if held.first == i { held.removeFirst() } else { out.append(i) }
            }
            return out
        }
    }

    /// `append`, saying which runs were held already.
    package func appendReporting(_ runs: [TraceRun]) throws(StorageError) -> AppendResult {
        guard !isReadOnly else { throw PathStore.readOnlyError(directory) }
        guard !runs.isEmpty else { return AppendResult(table: RunTable(), duplicates: []) }
        for r in runs { try r.validate() }
        let (result, sequence) = try writer.withLock { (w: inout WriterState) throws(StorageError) -> (AppendResult, WALSequence?) in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            let (duplicates, problems) = w.identities.duplicates(in: runs, catalog: w.ingester.catalog) { snapshot() }
            for p in problems {
                logger.error("runs of a damaged segment could not be compared with a batch; its runs are taken as new", metadata: ["error": "\(p)"])
            }
            // Damage found by this append's own reading, or by readers while the lock was taken.
            setAsidePending(writer: &w)
            var fresh = runs
            if !duplicates.isEmpty {
                for i in duplicates.reversed() { fresh.remove(at: i) }
                guard !fresh.isEmpty else { return (AppendResult(table: RunTable(), duplicates: duplicates), nil) }
            }
            let seq: WALSequence
            do throws(StorageError) {
                seq = try w.wal.append(fresh)
                failures.withLock { $0.wal = nil }
            } catch {
                failures.withLock { $0.wal = error }
                throw error
            }
            let block = w.ingester.ingest(fresh, walSequence: seq)
            publishHeadBlock(block, writer: &w)
            // The batch is acknowledged from here on: a failed cut (a full disk, say) must not
            // make the caller think otherwise and write it again. The head keeps the data and
            // the cut is retried when the head has grown again.
            if w.uncutProbes >= options.headCutProbes {
                do throws(StorageError) {
                    try startCut(writer: &w)
                } catch {
                    // Starting the cut failed (the WAL could not rotate): degraded until a cut
                    // succeeds, as when writing one fails.
                    failures.withLock { $0.cut = error }
                    logger.error("cutting the head into a segment failed; will retry", metadata: ["error": "\(error)"])
                }
            }
            return (AppendResult(table: block.table, duplicates: duplicates), seq)
        }
        // Outside the writer lock, so that other appends write while this one's sync runs and
        // share the next.
        if let sequence, options.walSync == .always {
            do throws(StorageError) {
                try groupCommit.waitUntilSynced(sequence)
            } catch {
                failures.withLock { $0.wal = error }
                throw error
            }
        }
        return result
    }

    var isClosed: Bool { published.withLock { $0.closed } }

    /// Records scheduled runs that did not start, each once: a slot the store holds already
    /// (same target, vantage point, time and reason), or that an earlier slot of `slots`
    /// repeats, is not recorded again. When this returns they are on disk (fsynced) and
    /// visible to new snapshots.
    /// - Returns: how many slots were recorded.
    /// - Throws: `.invalidArgument` for a slot without a target name (nothing is written then);
    ///   `.diskFull` or `.io` when the write fails (nothing of the call is recorded).
    @discardableResult
    public func recordMissed(_ slots: [MissedSlot]) throws(StorageError) -> Int {
        guard !slots.isEmpty else { return 0 }
        guard slots.allSatisfy({ !$0.target.isEmpty }) else { throw StorageError(.invalidArgument, "a missed slot needs a target name") }
        return try missedFile.withLock { (file: inout MissedSlotFile?) throws(StorageError) -> Int in
            guard !isClosed else { throw StorageError(.closed, "store is closed", file: directory) }
            guard let file else { throw PathStore.readOnlyError(directory) }
            let fresh = file.unheld(slots) { published.withLock { $0.missed } }
            guard !fresh.isEmpty else { return 0 }
            do throws(StorageError) {
                try file.append(fresh)
                failures.withLock { $0.missedSlots = nil }
            } catch {
                failures.withLock { $0.missedSlots = error }
                throw error
            }
            published.withLock { $0.missed += fresh }
            return fresh.count
        }
    }

    func publishHeadBlock(_ block: HeadBlock, writer w: inout WriterState) {
        w.uncutProbes += block.table.probes.count
        w.identities.note(block.table)
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
    /// How many WAL syncs group commit has run (`WALSyncPolicy.always`): each acknowledged
    /// every batch written before it began.
    package var walGroupSyncs: Int { groupCommit.roundCount }

    /// The write failing now (the WAL's first, then a cut's, then the missed-slot file's), nil
    /// while every kind of write succeeds. Each kind clears when its next write succeeds.
    package var writeFailure: StorageError? {
        failures.withLock { $0.wal ?? $0.cut ?? $0.missedSlots }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Group commit for `WALSyncPolicy.always`: appends write their records under the writer lock
/// without syncing, then wait here, outside it, until a sync covers their sequence. The first
/// waiter that finds no sync running syncs everything written so far; appends that wrote while
/// it synced wait for the next round and share it. One `fdatasync` thus acknowledges every
/// batch written since the last one, and concurrent appenders do not queue one sync each behind
/// the writer lock.
///
/// `@unchecked Sendable`: every field is read and written only with `condition` locked, except
/// the descriptor a sync round uses, which that round owns by reference.
final class WALGroupCommit: @unchecked Sendable {
    /// A duplicate of the open WAL file's descriptor: a sync round runs outside the writer lock,
    /// while the writer may rotate and close its own.
    final class SyncTarget: Sendable {
        let fd: Int32
        let path: String
        init(duplicating fd: Int32, path: String) throws(StorageError) {
            let copy = Glibc.fcntl(fd, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else { throw StorageError.system("cannot duplicate the WAL descriptor", file: path, errno: errno) }
            self.fd = copy
            self.path = path
        }
        deinit { Glibc.close(fd) }
    }

    private let condition = NSCondition()
    /// The newest record written to `target`.
    private var written = WALSequence.none
    /// Every record up to this one is on disk.
    private var synced = WALSequence.none
    private var syncing = false
    private var target: SyncTarget?
    /// The sync rounds run, for tests and figures.
    private var rounds = 0

    /// A record was written to the current file (under the writer lock).
    func wrote(_ sequence: WALSequence) {
        condition.lock()
        written = max(written, sequence)
        condition.unlock()
    }

    /// The writer moved to a new file after syncing the old one: everything before `first` is
    /// on disk, and later rounds sync `target`.
    func rotated(to target: SyncTarget, firstSequence first: WALSequence) {
        condition.lock()
        self.target = target
        synced = max(synced, first.previous)
        condition.unlock()
        condition.broadcast()
    }

    /// Everything written so far is on disk (a close or a cut synced it).
    func syncedAll() {
        condition.lock()
        synced = max(synced, written)
        condition.unlock()
        condition.broadcast()
    }

    /// Returns once `sequence` is on disk: at once if a round covered it, after the running
    /// round and perhaps one more otherwise.
    /// - Throws: the sync's error when the round that would have covered `sequence` failed
    ///   (the record is written but may not survive a power loss).
    func waitUntilSynced(_ sequence: WALSequence) throws(StorageError) {
        condition.lock()
        while synced < sequence {
            if syncing {
                condition.wait()
                continue
            }
            // Lead a round: sync everything written so far, with the lock released so that
            // other appends can write (and join the next round) meanwhile.
            syncing = true
            let upTo = written
            let file = target
            condition.unlock()
            let failed: Int32 = file.map { fdatasync($0.fd) == 0 ? 0 : errno } ?? 0
            condition.lock()
            syncing = false
            rounds += 1
            if failed == 0 { synced = max(synced, upTo) }
            condition.broadcast()
            if failed != 0 {
                condition.unlock()
                throw StorageError.system("fdatasync failed; the batch is written but not synced", file: file?.path, errno: failed)
            }
        }
        condition.unlock()
    }

    /// Every record up to this one is on disk.
    var syncedSequence: WALSequence {
        condition.lock()
        defer { condition.unlock() }
        return synced
    }

    /// How many sync rounds have run.
    var roundCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return rounds
    }
}

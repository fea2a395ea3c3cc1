#if canImport(Glibc)
import Glibc
#endif

/// Appends records to the newest WAL file, rotating to a new file past `fileSizeLimit`.
/// Owned by the store's single writer.
final class WALWriter {
    let directory: String
    let syncPolicy: WALSyncPolicy
    let fileSizeLimit: Int64
    private var file: PosixFile?
    private var fileSize: Int64 = 0
    private(set) var currentFirstSequence = WALSequence.none
    private var lastSync = ContinuousClock.now
    /// The next sequence number to hand out.
    private(set) var nextSequence: WALSequence
    /// Where `.always` appends wait for their sync, outside the writer lock.
    let groupCommit: WALGroupCommit

    /// - Parameter groupCommit: the group commit of the writer this one replaces, if any: the
    ///   store's appends wait on one for the store's life.
    init(directory: String, nextSequence: WALSequence, syncPolicy: WALSyncPolicy, fileSizeLimit: Int64,
         groupCommit: WALGroupCommit = WALGroupCommit()) {
        self.groupCommit = groupCommit
        self.directory = directory
        self.nextSequence = nextSequence
        self.syncPolicy = syncPolicy
        self.fileSizeLimit = fileSizeLimit
    }

    /// Writes one batch of runs; returns its sequence number once the record is written (and
    /// synced, as the policy says; with `.always` the caller waits for the sync afterwards, with
    /// `groupCommit.waitUntilSynced`, outside the writer lock).
    func append(_ runs: [TraceRun]) throws(StorageError) -> WALSequence {
        let payload = RunBatchCodec.encode(runs)
        let compression: BlockCompression = payload.count >= WALFormat.compressAbove ? .lz4 : .none
        let stored = compression.compress(payload)
        guard stored.count + WALFormat.bodyHeaderSize <= WALFormat.maxRecordSize else {
            throw StorageError(.invalidArgument, "batch of \(runs.count) runs is larger than a WAL record may be (\(WALFormat.maxRecordSize) bytes); split it")
        }
        let seq = nextSequence
        var body = [UInt8]()
        body.reserveCapacity(stored.count + WALFormat.bodyHeaderSize)
        body.append(WALFormat.runBatchType)
        body.appendLE(seq.rawValue)
        body.append(compression.rawValue)
        body.appendLE(UInt32(payload.count))
        body.append(contentsOf: stored)
        var record = [UInt8]()
        record.reserveCapacity(body.count + 8)
        RecordLog.append(body, to: &record)

        if file == nil || fileSize + Int64(record.count) > fileSizeLimit {
            try rotate(firstSequence: seq)
        }
        guard let f = file else { throw StorageError(.io, "no WAL file open", file: directory) }
        do throws(StorageError) {
            try f.writeAll(record)
        } catch {
            // Cut the partial record off so that later appends are not hidden behind it.
            let path = f.path
            if (try? f.truncate(to: fileSize)) == nil {
                file = nil  // the next append starts a fresh file; replay reports this one's tail
            }
            throw error.located(file: path, offset: fileSize)
        }
        fileSize += Int64(record.count)
        nextSequence = seq.next
        try syncIfDue()
        return seq
    }

    private func syncIfDue() throws(StorageError) {
        switch syncPolicy {
        case .always:
            groupCommit.wrote(nextSequence.previous)  // synced by the group, after the lock
        case .interval(let d):
            let now = ContinuousClock.now
            if now - lastSync >= d {
                try file?.sync()
                lastSync = now
            }
        case .never:
            break
        }
    }

    /// Forces the current file to disk.
    func sync() throws(StorageError) {
        try file?.sync()
        lastSync = .now
        groupCommit.syncedAll()
    }

    /// Closes the current file and starts a new one whose first record will be `firstSequence`.
    func rotate(firstSequence: WALSequence) throws(StorageError) {
        try file?.sync()
        file = nil
        let path = StoreLayout.path(WALFormat.fileName(firstSequence: firstSequence), in: directory)
        let f = try PosixFile(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        var header = WALFormat.magic
        header.appendLE(WALFormat.version)
        header.appendLE(UInt16(0))
        header.appendLE(firstSequence.rawValue)
        try f.writeAll(header)
        try f.sync()
        try FileSystem.syncDirectory(directory)
        groupCommit.rotated(to: try WALGroupCommit.SyncTarget(duplicating: f.fd, path: path), firstSequence: firstSequence)
        file = f
        fileSize = Int64(header.count)
        currentFirstSequence = firstSequence
    }

    func close() throws(StorageError) {
        try file?.sync()
        groupCommit.syncedAll()
        file = nil
    }
}

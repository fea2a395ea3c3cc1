import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `alerts.pta`: the append-only log of alerts, notifications, deliveries, silences and
/// acknowledgements (FORMAT.md, "Alert log"), framed as the catalog is. Every append is fsynced
/// before it returns, so what the alerting layer was told is written survives a crash; a torn
/// tail is cut off on open and reported. Opened through `PathStore.openAlertLog()`, by the
/// process that holds the store's lock; appends from several tasks are serialised here.
package final class AlertLog: Sendable {
    static let magic: [UInt8] = Array("PTAL".utf8)
    static let version: UInt16 = 1
    static let headerSize = 8

    package let path: String
    private let file: Mutex<PosixFile>
    /// Every intact record read on open, oldest first.
    package let records: [AlertRecord]
    /// What was wrong with the file's tail on open (it has been cut off), if anything.
    package let tailProblem: StorageError?

    init(path: String) throws(StorageError) {
        self.path = path
        let isNew = !FileSystem.exists(path)
        let f = try PosixFile(path: path, flags: O_RDWR | O_CREAT)
        var loaded = [AlertRecord]()
        var problem: StorageError?
        if let (bytes, _) = try RecordLog.open(f, isNew: isNew, path: path, magic: AlertLog.magic, version: AlertLog.version, kind: "alert log") {
            problem = try RecordLog.load(f, bytes: bytes, from: AlertLog.headerSize, path: path) { (c: inout ByteCursor) throws(StorageError) in
                loaded.append(try AlertRecord.decode(&c))
            }
        }
        records = loaded
        tailProblem = problem
        file = Mutex(f)
    }

    /// Appends `records`, one framed record each, and syncs them to disk.
    package func append(_ records: [AlertRecord]) throws(StorageError) {
        guard !records.isEmpty else { return }
        var out = [UInt8]()
        RecordLog.append(records, to: &out) { $0.encode(into: &$1) }
        try file.withLock { (f: inout PosixFile) throws(StorageError) in try RecordLog.write(out, to: f) }
    }
}

extension AlertLog {
    /// The transitions among the records read on open, oldest first.
    package var transitions: [AlertTransition] { AlertLog.transitions(in: records) }

    /// The transitions among `records`, oldest first.
    package static func transitions(in records: [AlertRecord]) -> [AlertTransition] {
        records.compactMap { if case .transition(let t) = $0 { t } else { nil } }
    }

    /// The intact records of `store`'s alert log, read without opening it for writing: for a
    /// reader beside the server that appends to it. None when alerting never ran on the store.
    package static func records(readingOnly store: PathStore) throws(StorageError) -> [AlertRecord] {
        var out = [AlertRecord]()
        try RecordLog.readWithoutWriting(path: store.layout.alerts, magic: magic, version: version, kind: "alert log") { (c: inout ByteCursor) throws(StorageError) in
            out.append(try AlertRecord.decode(&c))
        }
        return out
    }
}

extension PathStore {
    /// Opens the store's alert log (creating it when new).
    package func openAlertLog() throws(StorageError) -> AlertLog {
        try AlertLog(path: layout.alerts)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// `catalog.ptc`: the append-only log of dictionary entries (FORMAT.md, "Catalog").
///
/// Entries are appended and fsynced before any segment that uses their ids is committed, so a
/// segment never refers to an id that is not on disk. A torn tail (a crash mid-append) is cut
/// off on open and reported; nothing a segment refers to can be in it.
///
/// Whoever cuts a segment persists the catalog as it was when the cut began; `persisted` knows
/// how much of any later catalog is already on disk. Calls are serialised by the owner.
final class CatalogFile {
    /// How many entries of each kind are on disk.
    private(set) var persisted = CatalogCounts()
    static let magic: [UInt8] = Array("PTCT".utf8)
    /// Version 2 may hold load-balanced paths (record kind 5); version 1 never does. A version 1
    /// file is marked version 2 in place before its first such record is appended.
    static let version: UInt16 = 2
    static let oldestVersion: UInt16 = 1
    static let headerSize = 8

    let path: String
    private let file: PosixFile
    /// The version in the file's header.
    private(set) var fileVersion: UInt16

    /// Opens or creates the catalog and loads every intact entry into `catalog`; `tailProblem`
    /// receives what was wrong with a damaged tail, which has then been cut off.
    init(path: String, into catalog: inout Catalog, tailProblem: inout StorageError?) throws(StorageError) {
        self.path = path
        let isNew = !FileSystem.exists(path)
        file = try PosixFile(path: path, flags: O_RDWR | O_CREAT)
        guard let (bytes, version) = try RecordLog.open(file, isNew: isNew, path: path, magic: CatalogFile.magic,
                                                        version: CatalogFile.version, oldest: CatalogFile.oldestVersion,
                                                        kind: "catalog") else {
            fileVersion = CatalogFile.version
            persisted = catalog.counts
            return
        }
        fileVersion = version
        tailProblem = try RecordLog.load(file, bytes: bytes, from: CatalogFile.headerSize, path: path) { (c: inout ByteCursor) throws(StorageError) in
            catalog.load(try CatalogEntry.decode(&c))
        }
        persisted = catalog.counts
    }

    /// The intact entries of the catalog at `path`, read without opening it for writing (a reader
    /// beside the writer; see `RecordLog.readWithoutWriting`).
    static func read(path: String) throws(StorageError) -> Catalog {
        var catalog = Catalog()
        try RecordLog.readWithoutWriting(path: path, magic: magic, version: version, oldest: oldestVersion, kind: "catalog") { (c: inout ByteCursor) throws(StorageError) in
            catalog.load(try CatalogEntry.decode(&c))
        }
        return catalog
    }

    /// Makes every entry of `catalog` durable that is not on disk yet.
    func persist(_ catalog: Catalog) throws(StorageError) {
        let entries = catalog.entries(after: persisted)
        guard !entries.isEmpty else { return }
        if fileVersion < 2, entries.contains(where: { if case .path(let p) = $0 { p.isLoadBalanced } else { false } }) {
            try RecordLog.markVersion(CatalogFile.version, of: file)
            fileVersion = CatalogFile.version
        }
        var out = [UInt8]()
        RecordLog.append(entries, to: &out) { $0.encode(into: &$1) }
        try RecordLog.write(out, to: file)
        persisted = catalog.counts
    }
}

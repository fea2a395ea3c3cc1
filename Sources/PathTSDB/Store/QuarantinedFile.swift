#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A file the store moved to `quarantine/` because it failed a check: which, why, and what data
/// it held as far as it still reads. Its runs are in no answer until an operator restores it.
public struct QuarantinedFile: Sendable, Equatable {
    /// Where it is now, in `quarantine/`.
    public var path: String
    /// What failed, as the store recorded it when it moved the file (nil when no record was
    /// kept: a file put there by hand, or by a version before the record).
    public var cause: String?
    /// The start times of the runs a segment held (from its header), when it still reads.
    public var timeRange: ClosedRange<Int64>?
    /// The targets a segment held (from its index), when it still reads; empty otherwise.
    public var targets: [String]

    /// One line: the file, what it held, and why it is there.
    public var summary: String {
        var s = path
        if let timeRange {
            s += ": runs from \(RFC3339.format(micros: timeRange.lowerBound)) to \(RFC3339.format(micros: timeRange.upperBound))"
            if !targets.isEmpty {
                s += " of \(targets.count) target\(targets.count == 1 ? "" : "s") (\(targets.prefix(5).joined(separator: ", "))\(targets.count > 5 ? ", …" : ""))"
            }
        } else if path.hasSuffix(".wal") {
            s += ": WAL file"
        } else {
            s += ": what it held no longer reads"
        }
        s += "; " + (cause ?? "cause not recorded")
        return s
    }
}

extension PathStore {
    /// The cause of a quarantined file is kept beside it as `NAME.cause` (FORMAT.md,
    /// "Quarantine").
    static let causeSuffix = ".cause"

    /// Moves `path` into `quarantine` and records why beside it. The record is best effort: the
    /// move is what takes the file out of service.
    static func moveToQuarantine(_ path: String, directory quarantine: String, because error: StorageError) throws(StorageError) -> String {
        let name = String(path.split(separator: "/").last ?? "")
        let dest = StoreLayout.path(name, in: quarantine)
        try FileSystem.rename(path, dest)
        if let file = try? PosixFile(path: dest + causeSuffix, flags: O_WRONLY | O_CREAT | O_TRUNC) {
            try? file.writeAll(Array("\(error)\n".utf8))
        }
        return dest
    }

    /// Every file in `quarantine/`, with what it held (targets named by this store's catalog).
    /// Empty when nothing was ever quarantined. The files are read again only when the
    /// directory's listing changed since the last call.
    public var quarantinedFiles: [QuarantinedFile] {
        let dir = quarantineDirectory
        guard let listed = try? FileSystem.list(dir) else { return [] }
        let names = listed.sorted()
        if let cached = quarantineCache.withLock({ $0.names == names ? $0.files : nil }) { return cached }
        let catalog = published.withLock { $0.catalog }
        let files = names.filter { !$0.hasSuffix(PathStore.causeSuffix) }.map { name in
            let path = StoreLayout.path(name, in: dir)
            var file = QuarantinedFile(path: path, cause: nil, timeRange: nil, targets: [])
            if let f = try? PosixFile(path: path + PathStore.causeSuffix, flags: O_RDONLY), let size = try? f.size(),
               let bytes = try? f.read(at: 0, count: Int(min(size, 4096))), !bytes.isEmpty {
                file.cause = String(decoding: bytes.last == 0x0A ? bytes.dropLast() : bytes[...], as: UTF8.self)
            }
            if SegmentFormat.id(ofFileNamed: String(name.prefix(20))) != nil, let seg = try? Segment(path: path, verifyBlocks: false),
               seg.minStartMicros <= seg.maxStartMicros {
                file.timeRange = seg.minStartMicros...seg.maxStartMicros
                file.targets = seg.targets.map { catalog.name(of: $0) ?? "#\($0.rawValue)" }
            }
            return file
        }
        quarantineCache.withLock { $0 = (names, files) }
        return files
    }
}

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
    /// The start times of the runs lost with it: all a segment held (from its header), when it
    /// still reads; for a salvaged segment, those of the targets whose runs did not read.
    public var timeRange: ClosedRange<Int64>?
    /// The targets whose runs are lost with it: all a segment held (from its index), when it
    /// still reads, or those a salvage could not read; empty otherwise.
    public var targets: [String]
    /// For a segment whose damage was confined to some blocks: the file (in the store, as
    /// `segments/NAME` or `rollups/NAME`) that holds everything else it held.
    public var salvagedInto: String?
    /// What else a salvage lost: "events", "detector state", "rollups of N targets".
    public var alsoLost: [String] = []

    /// One line: the file, what it held, and why it is there.
    public var summary: String {
        var s = path
        if let timeRange {
            s += ": runs from \(RFC3339.format(micros: timeRange.lowerBound)) to \(RFC3339.format(micros: timeRange.upperBound))"
            if !targets.isEmpty {
                s += " of \(targets.count) target\(targets.count == 1 ? "" : "s") (\(targets.prefix(5).joined(separator: ", "))\(targets.count > 5 ? ", …" : ""))"
            }
            if salvagedInto != nil { s += " lost" }
        } else if salvagedInto != nil {
            s += ": no runs lost"
        } else if path.hasSuffix(".wal") {
            s += ": WAL file"
        } else {
            s += ": what it held no longer reads"
        }
        if !alsoLost.isEmpty { s += "; also lost: " + alsoLost.joined(separator: ", ") }
        if let salvagedInto { s += "; everything else it held is in \(salvagedInto)" }
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
    /// `details` are further lines: what a salvage kept and lost (`SegmentSalvage.causeLines`).
    static func moveToQuarantine(_ path: String, directory quarantine: String, because error: StorageError,
                                 details: [String] = []) throws(StorageError) -> String {
        let name = String(path.split(separator: "/").last ?? "")
        let dest = StoreLayout.path(name, in: quarantine)
        try FileSystem.rename(path, dest)
        if let file = try? PosixFile(path: dest + causeSuffix, flags: O_WRONLY | O_CREAT | O_TRUNC) {
            // One line: an error's text names a file and a cause, never a line break of its own.
            let first = String("\(error)".map { $0 == "\n" ? " " : $0 })
            try? file.writeAll(Array(([first] + details).map { $0 + "\n" }.joined().utf8))
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
            var record = CauseRecord(lines: [])
            if let f = try? PosixFile(path: path + PathStore.causeSuffix, flags: O_RDONLY), let size = try? f.size(),
               let bytes = try? f.read(at: 0, count: Int(min(size, 1 << 20))), !bytes.isEmpty {
                record = CauseRecord(lines: String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init))
                file.cause = record.cause
            }
            file.salvagedInto = record.salvagedInto
            file.alsoLost = record.alsoLost
            if SegmentFormat.id(ofFileNamed: String(name.prefix(20))) != nil, let seg = try? Segment(path: path, verifyBlocks: false),
               seg.minStartMicros <= seg.maxStartMicros {
                let lost = record.salvagedInto == nil ? seg.targets : record.lostRuns
                let entries = lost.compactMap { seg.entry(for: $0) }
                if let from = entries.map(\.minStartMicros).min(), let to = entries.map(\.maxStartMicros).max() {
                    file.timeRange = from...to
                }
                file.targets = lost.map { catalog.name(of: $0) ?? "#\($0.rawValue)" }
            }
            return file
        }
        quarantineCache.withLock { $0 = (names, files) }
        return files
    }
}

/// A `.cause` file read back: the error on its first line, then a salvage's lines, each a
/// keyword and its values (FORMAT.md, "Quarantine"). A line this build does not know is kept
/// out of the record, not refused: the cause is for people first.
struct CauseRecord {
    var cause: String?
    var salvagedInto: String?
    var lostRuns: [TargetID] = []
    var alsoLost: [String] = []

    init(lines: [String]) {
        cause = lines.first
        for line in lines.dropFirst() {
            let words = line.split(separator: " ")
            guard let keyword = words.first else { continue }
            let ids = words.dropFirst().compactMap { UInt32($0).map(TargetID.init(rawValue:)) }
            switch keyword {
            case "salvaged-into": salvagedInto = words.dropFirst().joined(separator: " ")
            case "lost-runs": lostRuns = ids
            case "lost-rollups": alsoLost.append("rollups of \(ids.count) target\(ids.count == 1 ? "" : "s")")
            case "lost-events": alsoLost.append("path-change events")
            case "lost-detector-state": alsoLost.append("path-change detector state")
            default: continue
            }
        }
    }
}

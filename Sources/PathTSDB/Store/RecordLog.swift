#if canImport(Glibc)
import Glibc
#endif

/// The record framing every append-only file of the store shares (FORMAT.md): after the file
/// header, records of `length u32 LE, crc32c u32 LE, body`, appended and fsynced; a torn or
/// damaged tail is cut off on open and reported. The WAL (`wal/*.wal`), `catalog.ptc`,
/// `missed.ptm` and `alerts.pta` are all read and framed here.
enum RecordLog {
    /// Reads the intact records from `offset` on, handing each body to `record`; returns where
    /// the intact part ends and what was wrong past it, if anything. A body's length must lie in
    /// `lengths` (a format's smallest and largest record).
    static func read(_ bytes: [UInt8], from offset: Int, path: String, lengths: ClosedRange<Int> = 1...Int(UInt32.max),
                     record: (inout ByteCursor) throws(StorageError) -> Void) -> (end: Int, problem: StorageError?) {
        var offset = offset
        while offset < bytes.count {
            guard bytes.count - offset >= 8 else {
                return (offset, StorageError(.corruption, "record header cut short: \(bytes.count - offset) of 8 bytes", file: path, offset: Int64(offset)))
            }
            let length = Int(bytes.loadLE32(at: offset))
            let crc = bytes.loadLE32(at: offset + 4)
            guard lengths.contains(length) else {
                return (offset, StorageError(.corruption, "record length \(length) is impossible (\(lengths.lowerBound) to \(lengths.upperBound))",
                                             file: path, offset: Int64(offset)))
            }
            guard length <= bytes.count - offset - 8 else {
                return (offset, StorageError(.corruption, "record of \(length) bytes cut short: it runs past the end of the file (\(bytes.count - offset - 8) present)",
                                             file: path, offset: Int64(offset)))
            }
            guard CRC32C.checksum(bytes[(offset + 8)..<(offset + 8 + length)]) == crc else {
                return (offset, StorageError(.corruption, "record checksum mismatch", file: path, offset: Int64(offset)))
            }
            var cursor = ByteCursor(bytes, from: offset + 8, to: offset + 8 + length)
            do throws(StorageError) {
                try record(&cursor)
            } catch {
                return (offset, error.located(file: path, offset: Int64(offset)))
            }
            offset += 8 + length
        }
        return (offset, nil)
    }

    /// Reads the intact records of `file`, whose whole content is `bytes`, as `read` does; a
    /// damaged tail is cut off and the cut synced, and the file is left positioned at its end
    /// for appends. Returns what was wrong with the tail, if anything.
    static func load(_ file: PosixFile, bytes: [UInt8], from offset: Int, path: String,
                     record: (inout ByteCursor) throws(StorageError) -> Void) throws(StorageError) -> StorageError? {
        let (end, problem) = read(bytes, from: offset, path: path, record: record)
        if problem != nil {
            try file.truncate(to: Int64(end))
            try file.sync()
        }
        _ = try file.seekToEnd()
        return problem
    }

    /// The 8-byte file header: magic, version u16, reserved u16.
    static func header(magic: [UInt8], version: UInt16) -> [UInt8] {
        var h = magic
        h.appendLE(version)
        h.appendLE(UInt16(0))
        return h
    }

    /// Opens `file`: a new or empty one gets its header (version `version`) and nil is
    /// returned; an existing one is read whole and its header checked (the magic, then a version
    /// from `oldest` to `version`, which the file's version tells from the bytes).
    static func open(_ file: PosixFile, isNew: Bool, path: String, magic: [UInt8], version: UInt16, oldest: UInt16? = nil,
                     kind: String) throws(StorageError) -> (bytes: [UInt8], version: UInt16)? {
        let size = try file.size()
        if isNew || size == 0 {
            try file.writeAll(header(magic: magic, version: version))
            try file.sync()
            return nil
        }
        let bytes = try file.readAll()
        return (bytes, try checkHeader(bytes, path: path, magic: magic, version: version, oldest: oldest, kind: kind))
    }

    /// The version of a file whose content is `bytes`, once its header is checked.
    private static func checkHeader(_ bytes: [UInt8], path: String, magic: [UInt8], version: UInt16, oldest: UInt16?,
                                    kind: String) throws(StorageError) -> UInt16 {
        guard bytes.count >= 8, Array(bytes[0..<4]) == magic else {
            throw StorageError(.corruption, "not a \(kind) file (bad magic)", file: path, offset: 0)
        }
        let found = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        let readable = (oldest ?? version)...version
        guard readable.contains(found) else {
            let reads = readable.count == 1 ? "\(version)" : "\(readable.lowerBound) to \(version)"
            throw StorageError(.unsupportedVersion, "\(kind) version \(found), this build reads \(reads)", file: path, offset: 4)
        }
        guard bytes[6] == 0 && bytes[7] == 0 else {
            throw StorageError(.corruption, "\(kind) header field reserved is not 0", file: path, offset: 6)
        }
        return found
    }

    /// Reads the intact records of the file at `path` without opening it for writing, for a
    /// reader beside the store's writer: a missing or header-only file has none, and a tail that
    /// does not read (a record the writer is appending right now, or a crash's torn tail, which
    /// the writer cuts off on its next open) ends the records without being an error.
    static func readWithoutWriting(path: String, magic: [UInt8], version: UInt16, oldest: UInt16? = nil, kind: String,
                                   record: (inout ByteCursor) throws(StorageError) -> Void) throws(StorageError) {
        guard FileSystem.exists(path) else { return }
        let file = try PosixFile(path: path, flags: O_RDONLY)
        let bytes = try file.readAll()
        guard bytes.count >= 8 else { return }
        _ = try checkHeader(bytes, path: path, magic: magic, version: version, oldest: oldest, kind: kind)
        _ = read(bytes, from: 8, path: path, record: record)
    }

    /// Marks `file` as `version` in place: only the header's version field changes, then it is
    /// synced. For a format whose new version only adds record kinds or fields, so that a crash
    /// after the mark leaves a file of the new version holding the old one's records, which the
    /// new version reads.
    static func markVersion(_ version: UInt16, of file: PosixFile) throws(StorageError) {
        var v = [UInt8]()
        v.appendLE(version)
        try file.write(v, at: 4)
        try file.sync()
    }

    /// Frames `body` as one record at the end of `out`.
    static func append(_ body: [UInt8], to out: inout [UInt8]) {
        out.appendLE(UInt32(body.count))
        out.appendLE(CRC32C.checksum(body))
        out.append(contentsOf: body)
    }

    /// Frames one record per item at the end of `out`, each body written by `encode`.
    static func append<S: Sequence>(_ items: S, to out: inout [UInt8], encode: (S.Element, inout [UInt8]) -> Void) {
        var body = [UInt8]()
        for item in items {
            body.removeAll(keepingCapacity: true)
            encode(item, &body)
            append(body, to: &out)
        }
    }

    /// Appends framed records to `file` and syncs; on failure cuts off what was written, so the
    /// next append never follows a partial record.
    static func write(_ framed: [UInt8], to file: PosixFile) throws(StorageError) {
        let start = try file.seekToEnd()
        do throws(StorageError) {
            try file.writeAll(framed)
            try file.sync()
        } catch {
            try? file.truncate(to: start)
            throw error
        }
    }
}

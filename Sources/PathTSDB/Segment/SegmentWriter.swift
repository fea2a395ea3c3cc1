#if canImport(Glibc)
import Glibc
#endif

/// What one segment will hold for one target.
struct SegmentTargetInput {
    var target: TargetID
    /// The target's runs, in start-time order.
    var table: RunTable
    /// Rollup rows to store beside the runs (merged rows, in (tier, ttl, bucket) order).
    var rollups: [RollupRow]
}

/// Writes one segment file: blocks streamed to `<name>.tmp`, then fsync, rename, directory fsync,
/// so a segment is either wholly there or not at all.
final class SegmentWriter {
    let directory: String
    let id: SegmentID
    let level: UInt8
    let zstdLevel: Int32
    private let tmpPath: String
    private let file: PosixFile
    private var offset: Int64
    private var entries: [SegmentTargetEntry] = []
    private var minStart = Int64.max
    private var maxStart = Int64.min

    init(directory: String, id: SegmentID, level: UInt8, zstdLevel: Int32) throws(StorageError) {
        self.directory = directory
        self.id = id
        self.level = level
        self.zstdLevel = zstdLevel
        tmpPath = StoreLayout.path(SegmentFormat.fileName(id: id) + ".tmp", in: directory)
        file = try PosixFile(path: tmpPath, flags: O_WRONLY | O_CREAT | O_TRUNC)
        // The header is rewritten with the time range at the end; reserve its bytes now.
        try file.writeAll([UInt8](repeating: 0, count: SegmentFormat.headerSize))
        offset = Int64(SegmentFormat.headerSize)
    }

    private func writeBlock(_ body: [UInt8]) throws(StorageError) -> (Int64, Int) {
        var framed = [UInt8]()
        framed.reserveCapacity(body.count + 8)
        framed.appendLE(UInt32(body.count))
        framed.appendLE(CRC32C.checksum(body))
        framed.append(contentsOf: body)
        try file.writeAll(framed)
        let at = offset
        offset += Int64(framed.count)
        return (at, framed.count)
    }

    /// Writes `raw` as a ZSTD-compressed block: compression byte, raw length, compressed bytes.
    private func writeCompressedBlock(_ raw: [UInt8]) throws(StorageError) -> (Int64, Int) {
        var body = [UInt8]()
        body.append(BlockCompression.zstd.rawValue)
        body.appendVarint(raw.count)
        body.append(contentsOf: BlockCompression.zstd.compress(raw, level: zstdLevel))
        return try writeBlock(body)
    }

    /// Appends one target's chunk and rollup block. Targets must come in ascending id order.
    func add(_ input: SegmentTargetInput, catalog: Catalog) throws(StorageError) {
        guard let first = input.table.runs.first, let last = input.table.runs.last else { return }
        precondition(entries.last.map { $0.target < input.target } ?? true, "segment targets must be added in id order")
        let chunk = try ChunkCodec.encode(input.table, catalog: catalog, zstdLevel: zstdLevel)
        let (cOff, cLen) = try writeBlock(chunk)
        var rollupRaw = [UInt8]()
        RollupCodec.encode(input.rollups, into: &rollupRaw)
        let (rOff, rLen) = try writeCompressedBlock(rollupRaw)
        entries.append(SegmentTargetEntry(
            target: input.target, minStartMicros: first.startMicros, maxStartMicros: last.startMicros,
            runCount: input.table.runs.count, probeCount: input.table.probes.count,
            sampleCount: input.table.probes.reduce(0) { $0 + ($1.isTimed ? 1 : 0) },
            chunkOffset: cOff, chunkLength: cLen, rollupOffset: rOff, rollupLength: rLen))
        minStart = min(minStart, first.startMicros)
        maxStart = max(maxStart, last.startMicros)
    }

    /// Appends one target's rollup rows alone (a rollup-only file written by retention).
    func addRollups(target: TargetID, rows: [RollupRow], minStartMicros: Int64, maxStartMicros: Int64) throws(StorageError) {
        precondition(entries.last.map { $0.target < target } ?? true, "segment targets must be added in id order")
        var rollupRaw = [UInt8]()
        RollupCodec.encode(rows, into: &rollupRaw)
        let (rOff, rLen) = try writeCompressedBlock(rollupRaw)
        entries.append(SegmentTargetEntry(
            target: target, minStartMicros: minStartMicros, maxStartMicros: maxStartMicros, runCount: 0, probeCount: 0,
            sampleCount: 0, chunkOffset: 0, chunkLength: 0, rollupOffset: rOff, rollupLength: rLen))
        minStart = min(minStart, minStartMicros)
        maxStart = max(maxStart, maxStartMicros)
    }

    /// Writes events, detector state, index, footer and header; then makes the file durable and
    /// visible under its final name.
    func finish(events: [PathChangeEvent], state: PathChangeDetector, walHighWater: WALSequence,
                          sources: [SegmentID]) throws(StorageError) -> String {
        do throws(StorageError) {
            var ev = [UInt8]()
            EventCodec.encode(events, into: &ev)
            let (eOff, eLen) = try writeCompressedBlock(ev)
            var st = [UInt8]()
            state.encode(into: &st)
            let (sOff, sLen) = try writeCompressedBlock(st)

            let index = SegmentIndex(walHighWater: walHighWater, sources: sources, eventsOffset: eOff, eventsLength: eLen,
                                     stateOffset: sOff, stateLength: sLen, eventCount: events.count, entries: entries)
            var indexBody = [UInt8]()
            index.encode(into: &indexBody)
            let (iOff, iLen) = try writeBlock(indexBody)
            var header = SegmentFormat.magic
            header.appendLE(SegmentFormat.version)
            header.append(level)
            header.append(0)
            header.appendLE(id.rawValue)
            header.appendLE(entries.isEmpty ? 0 : minStart)
            header.appendLE(entries.isEmpty ? 0 : maxStart)

            var footer = [UInt8]()
            footer.appendLE(UInt64(iOff))
            footer.appendLE(UInt32(iLen))
            footer.appendLE(CRC32C.checksum(indexBody))
            footer.appendLE(CRC32C.checksum(header))
            footer.append(contentsOf: SegmentFormat.footerMagic)
            try file.writeAll(footer)
            guard pwriteAll(header, at: 0) else { throw StorageError.system("header write failed", file: tmpPath, errno: errno) }
            try file.sync()
        } catch {
            try? FileSystem.remove(tmpPath)
            throw error
        }
        let finalPath = StoreLayout.path(SegmentFormat.fileName(id: id), in: directory)
        try FileSystem.rename(tmpPath, finalPath)
        try FileSystem.syncDirectory(directory)
        return finalPath
    }

    /// Abandons the segment, removing the temporary file.
    func abandon() {
        try? FileSystem.remove(tmpPath)
    }

    private func pwriteAll(_ bytes: [UInt8], at position: Int64) -> Bool {
        bytes.withUnsafeBytes { pwrite(file.fd, $0.baseAddress, $0.count, off_t(position)) == $0.count }
    }
}

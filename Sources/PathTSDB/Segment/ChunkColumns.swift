/// The run and probe columns of a chunk body, in their compressed frames (FORMAT.md, "Chunk
/// block body").
///
/// Up to version 2 all 19 columns share one ZSTD frame. From version 3 the reply details
/// (columns 12–16), which a query of RTTs, TTLs and addresses never reads, have a frame of
/// their own after the others, so that such a reader skips it instead of decompressing it.
struct ChunkColumns {
    static let count = 19
    /// Reply TTL, ICMP type and code, MPLS count and labels: version 3's second frame.
    static let details = Array(12...16)

    /// The decompressed bytes: column `i` is `raw[ranges[i]]`, empty when its frame was skipped.
    var raw: [UInt8]
    var ranges: [Range<Int>]
    /// Where the first frame starts in the file; errors in a column point there.
    var fileOffset: Int64
    /// The compressed bytes of all frames, skipped ones included.
    var storedBytes = 0

    /// The columns of each frame, in stored order.
    static func frames(version: UInt16) -> [[Int]] {
        version >= 3 ? [Array(0...11) + [17, 18], details] : [Array(0..<count)]
    }

    /// The frames of the current version for `columns` (all 19), each column a `varint` length
    /// and its bytes: compression byte, then per frame its raw length, stored length and bytes.
    static func encode(_ columns: [[UInt8]], level: Int32, into body: inout [UInt8]) {
        precondition(columns.count == count, "a chunk has \(count) columns, not \(columns.count)")
        body.append(BlockCompression.zstd.rawValue)
        for frame in frames(version: SegmentFormat.version) {
            var raw = [UInt8]()
            for i in frame {
                raw.appendVarint(columns[i].count)
                raw.append(contentsOf: columns[i])
            }
            let stored = BlockCompression.zstd.compress(raw, level: level)
            body.appendVarint(raw.count)
            body.appendVarint(stored.count)
            body.append(contentsOf: stored)
        }
    }

    /// Reads the frames at `c`, which is positioned at the compression byte, leaving it after
    /// the last frame. The details frame of version 3 is decompressed only when `details`.
    static func read(_ c: inout ByteCursor, version: UInt16, details: Bool) throws(StorageError) -> ChunkColumns {
        let compRaw = try c.readByte()
        guard let compression = BlockCompression(rawValue: compRaw) else { throw c.corruption("unknown compression \(compRaw)") }
        var columns = ChunkColumns(raw: [], ranges: Array(repeating: 0..<0, count: count), fileOffset: c.fileOffset + Int64(c.position))
        for frame in frames(version: version) {
            let rawLength = try c.readVarintInt(max: 1 << 30)
            let storedLength = try c.readVarintInt(max: 1 << 30)
            let frameOffset = c.fileOffset + Int64(c.position)
            columns.storedBytes += storedLength
            if !details && frame == ChunkColumns.details {
                try c.skip(storedLength)
                continue
            }
            let decompressed: [UInt8]
            do throws(StorageError) {
                decompressed = try compression.decompress(try c.readBytes(storedLength), rawLength: rawLength)
            } catch {
                throw error.located(file: "", offset: frameOffset)
            }
            let base = columns.raw.count
            if base == 0 { columns.raw = decompressed } else { columns.raw.append(contentsOf: decompressed) }
            var cc = ByteCursor(decompressed, fileOffset: frameOffset)
            for i in frame {
                let n = try cc.readVarintInt(max: decompressed.count)
                let start = cc.position
                try cc.skip(n)
                columns.ranges[i] = (base + start)..<(base + start + n)
            }
            guard cc.remaining == 0 else { throw cc.corruption("\(cc.remaining) bytes after the last column of the frame") }
        }
        return columns
    }
}

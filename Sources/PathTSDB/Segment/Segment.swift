#if canImport(Glibc)
import Glibc
#endif

/// An immutable segment file, open for reading. Shared by any number of readers: every read is a
/// `pread` on a descriptor that lives as long as the object, so a segment deleted by compaction or
/// retention stays readable by the snapshots that still hold it.
package final class Segment: Sendable {
    package let id: SegmentID
    package let path: String
    package let level: UInt8
    /// The format version the file was written in (`SegmentFormat.readableVersions`).
    package let version: UInt16
    package let minStartMicros: Int64
    package let maxStartMicros: Int64
    package let fileSize: Int64
    let index: SegmentIndex
    private let fd: Int32

    var walHighWater: WALSequence { index.walHighWater }
    var sources: [SegmentID] { index.sources }
    package var targetCount: Int { index.entries.count }
    package var runCount: Int { index.entries.reduce(0) { $0 + $1.runCount } }
    package var probeCount: Int { index.entries.reduce(0) { $0 + $1.probeCount } }
    package var sampleCount: Int { index.entries.reduce(0) { $0 + $1.sampleCount } }

    /// Opens `path` and checks header, footer and index; with `verifyBlocks`, every block's
    /// checksum too.
    package init(path: String, verifyBlocks: Bool) throws(StorageError) {
        self.path = path
        let file = try PosixFile(path: path, flags: O_RDONLY)
        let size = try file.size()
        guard size >= Int64(SegmentFormat.headerSize + SegmentFormat.footerSize) else {
            throw StorageError(.corruption, "segment is \(size) bytes, shorter than header and footer", file: path, offset: 0)
        }
        let header = try file.read(at: 0, count: SegmentFormat.headerSize)
        guard Array(header[0..<4]) == SegmentFormat.magic else {
            throw StorageError(.corruption, "not a segment file (bad magic)", file: path, offset: 0)
        }
        let version = UInt16(header[4]) | UInt16(header[5]) << 8
        guard SegmentFormat.readableVersions.contains(version) else {
            throw StorageError(.unsupportedVersion, "segment version \(version), this build reads \(SegmentFormat.readableVersions.lowerBound) to \(SegmentFormat.readableVersions.upperBound)", file: path, offset: 4)
        }
        self.version = version
        level = header[6]
        id = SegmentID(rawValue: header.loadLE64(at: 8))
        minStartMicros = Int64(bitPattern: header.loadLE64(at: 16))
        maxStartMicros = Int64(bitPattern: header.loadLE64(at: 24))
        let footerAt = size - Int64(SegmentFormat.footerSize)
        let footer = try file.read(at: footerAt, count: SegmentFormat.footerSize)
        guard Array(footer[20..<24]) == SegmentFormat.footerMagic else {
            throw StorageError(.corruption, "segment footer magic missing (file cut short?)", file: path, offset: footerAt)
        }
        // Values read from disk are checked before any arithmetic: a flipped top bit must be a
        // corruption error, not a trap in the conversion.
        let rawIndexOffset = footer.loadLE64(at: 0)
        let indexLength = Int(footer.loadLE32(at: 8))
        guard let indexOffset = Int64(exactly: rawIndexOffset), indexOffset >= Int64(SegmentFormat.headerSize),
              indexOffset <= footerAt, Int64(indexLength) <= footerAt - indexOffset else {
            throw StorageError(.corruption, "footer field index_offset: index at \(rawIndexOffset)+\(indexLength) lies outside the file", file: path, offset: footerAt)
        }
        let indexBlock = try file.read(at: indexOffset, count: indexLength)
        let body = try Segment.checkBlock(indexBlock, path: path, offset: indexOffset)
        guard CRC32C.checksum(body) == footer.loadLE32(at: 12) else {
            throw StorageError(.corruption, "index checksum does not match the footer's", file: path, offset: indexOffset)
        }
        var c = ByteCursor(Array(body), fileOffset: indexOffset + 8)
        do throws(StorageError) {
            index = try SegmentIndex.decode(&c, fileSize: size)
        } catch {
            throw error.located(file: path)
        }
        fileSize = size
        try Segment.checkHeader(header, footer: footer, version: version, index: index, path: path, footerAt: footerAt)
        fd = dup(file.fd)
        guard fd >= 0 else { throw StorageError.system("dup failed", file: path, errno: errno) }
        if verifyBlocks, let first = damagedBlocks().first { throw first.error }
    }

    /// Every block whose length or checksum does not match, in file order: a segment that opens
    /// (header, index and footer check) can still hold damaged chunks, rollup blocks, or its
    /// events or detector state block, each of which costs only what it holds.
    package func damagedBlocks() -> [SegmentBlockDamage] {
        var blocks: [(SegmentBlockDamage.Block, Int64, Int)] = [(.events, index.eventsOffset, index.eventsLength),
                                                                 (.detectorState, index.stateOffset, index.stateLength)]
        for e in index.entries {
            if e.chunkLength > 0 { blocks.append((.chunk(e.target), e.chunkOffset, e.chunkLength)) }
            blocks.append((.rollups(e.target), e.rollupOffset, e.rollupLength))
        }
        var damaged = [SegmentBlockDamage]()
        for (block, offset, length) in blocks.sorted(by: { $0.1 < $1.1 }) {
            do { _ = try readBlock(at: offset, length: length) } catch { damaged.append(SegmentBlockDamage(block: block, error: error)) }
        }
        return damaged
    }

    deinit { close(fd) }

    /// Every header byte is checked: from version 4 against the CRC-32C the footer holds; in
    /// earlier files (whose footer has zero there) against the rest of the file. There the
    /// times must be the index's, the id the file name's, and level 255 (rollup-only) must go
    /// with an index that holds no chunks; the level of a segment with chunks is the one byte
    /// only its own value vouches for.
    private static func checkHeader(_ header: [UInt8], footer: [UInt8], version: UInt16, index: SegmentIndex,
                                    path: String, footerAt: Int64) throws(StorageError) {
        if version >= SegmentFormat.headerChecksumVersion {
            guard CRC32C.checksum(header) == footer.loadLE32(at: 16) else {
                throw StorageError(.corruption, "header checksum does not match the footer's", file: path, offset: 0)
            }
        } else {
            guard footer.loadLE32(at: 16) == 0 else {
                throw StorageError(.corruption, "footer field reserved is \(footer.loadLE32(at: 16)), not 0", file: path, offset: footerAt + 16)
            }
            let rollupOnly = !index.entries.isEmpty && index.entries.allSatisfy { $0.chunkLength == 0 }
            guard (header[6] == SegmentFormat.rollupOnlyLevel) == rollupOnly || index.entries.isEmpty else {
                throw StorageError(.corruption, "header field level \(header[6]) does not fit the index (\(rollupOnly ? "rollups only" : "chunks"))", file: path, offset: 6)
            }
            let minStart = Int64(bitPattern: header.loadLE64(at: 16)), maxStart = Int64(bitPattern: header.loadLE64(at: 24))
            let expectedMin = index.entries.map(\.minStartMicros).min() ?? 0, expectedMax = index.entries.map(\.maxStartMicros).max() ?? 0
            guard minStart == expectedMin else {
                throw StorageError(.corruption, "header field min_start \(minStart) is not the index's \(expectedMin)", file: path, offset: 16)
            }
            guard maxStart == expectedMax else {
                throw StorageError(.corruption, "header field max_start \(maxStart) is not the index's \(expectedMax)", file: path, offset: 24)
            }
        }
        guard header[7] == 0 else {
            throw StorageError(.corruption, "header field reserved is \(header[7]), not 0", file: path, offset: 7)
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if let named = SegmentFormat.id(ofFileNamed: name), named.rawValue != header.loadLE64(at: 8) {
            throw StorageError(.corruption, "header field id \(String(header.loadLE64(at: 8), radix: 16)) is not the file name's", file: path, offset: 8)
        }
    }

    /// Checks a framed block's length and checksum; returns its body.
    static func checkBlock(_ block: [UInt8], path: String, offset: Int64) throws(StorageError) -> ArraySlice<UInt8> {
        guard block.count >= SegmentFormat.blockHeaderSize else {
            throw StorageError(.corruption, "block header cut short", file: path, offset: offset)
        }
        let length = Int(block.loadLE32(at: 0))
        guard length == block.count - 8 else {
            throw StorageError(.corruption, "block length \(length) does not match its index entry (\(block.count - 8))", file: path, offset: offset)
        }
        let body = block[8...]
        guard CRC32C.checksum(body) == block.loadLE32(at: 4) else {
            throw StorageError(.corruption, "block checksum mismatch", file: path, offset: offset)
        }
        return body
    }

    private func readBlock(at offset: Int64, length: Int) throws(StorageError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(offset)) }
        guard n == length else {
            throw n < 0 ? StorageError.system("read failed", file: path, errno: errno)
                        : StorageError(.corruption, "block cut short", file: path, offset: offset)
        }
        return Array(try Segment.checkBlock(out, path: path, offset: offset))
    }

    private func readCompressedBlock(at offset: Int64, length: Int) throws(StorageError) -> [UInt8] {
        let body = try readBlock(at: offset, length: length)
        var c = ByteCursor(body, fileOffset: offset + 8)
        do throws(StorageError) {
            let compRaw = try c.readByte()
            guard let comp = BlockCompression(rawValue: compRaw) else { throw c.corruption("unknown compression \(compRaw)") }
            let rawLength = try c.readVarintInt(max: 1 << 30)
            return try comp.decompress(try c.readBytes(c.remaining), rawLength: rawLength)
        } catch {
            throw error.located(file: path, offset: offset)
        }
    }

    /// The index entry of `target`, if this segment holds it.
    func entry(for target: TargetID) -> SegmentTargetEntry? {
        var lo = 0, hi = index.entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if index.entries[mid].target < target { lo = mid + 1 } else { hi = mid }
        }
        return lo < index.entries.count && index.entries[lo].target == target ? index.entries[lo] : nil
    }

    /// Targets this segment holds.
    package var targets: [TargetID] { index.entries.map(\.target) }

    /// The runs of `target`, with the probe fields `fields` names.
    package func runs(of target: TargetID, catalog: Catalog, fields: ProbeFields = .all) throws(StorageError) -> RunTable {
        guard let e = entry(for: target), e.chunkLength > 0 else { return RunTable() }
        let body = try readBlock(at: e.chunkOffset, length: e.chunkLength)
        do throws(StorageError) {
            return try ChunkCodec.decode(body, target: target, catalog: catalog, fileOffset: e.chunkOffset + 8, version: version, fields: fields)
        } catch {
            var located = error
            located.file = path
            throw located
        }
    }

    /// The rollup rows of `target` stored with this segment.
    package func rollups(of target: TargetID) throws(StorageError) -> [RollupRow] {
        guard let e = entry(for: target) else { return [] }
        let raw = try readCompressedBlock(at: e.rollupOffset, length: e.rollupLength)
        var c = ByteCursor(raw)
        do throws(StorageError) { return try RollupCodec.decode(&c, target: target, version: version) } catch { throw error.located(file: path, offset: e.rollupOffset) }
    }

    /// The path-change events written with this segment.
    package func events() throws(StorageError) -> [PathChangeEvent] {
        let raw = try readCompressedBlock(at: index.eventsOffset, length: index.eventsLength)
        var c = ByteCursor(raw)
        do throws(StorageError) { return try EventCodec.decode(&c, version: version) } catch { throw error.located(file: path, offset: index.eventsOffset) }
    }

    func detectorState() throws(StorageError) -> PathChangeDetector {
        let raw = try readCompressedBlock(at: index.stateOffset, length: index.stateLength)
        var c = ByteCursor(raw)
        do throws(StorageError) { return try PathChangeDetector.decode(&c, version: version) } catch { throw error.located(file: path, offset: index.stateOffset) }
    }
}

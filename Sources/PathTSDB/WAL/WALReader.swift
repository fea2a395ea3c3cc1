/// One intact WAL record.
struct WALRecord {
    let sequence: UInt64
    let runs: [TraceRun]
}

/// What reading one WAL file found: its intact records and, if it stopped early, why and where.
struct WALFileContents {
    var records: [WALRecord] = []
    /// The file length up to the end of the last intact record.
    var validLength: Int64 = 0
    var problem: StorageError?
}

/// Reads WAL files record by record, stopping at the first record that is cut short or fails
/// its checksum.
enum WALReader {
    static func read(path: String, bytes: [UInt8]) -> WALFileContents {
        var out = WALFileContents()
        guard bytes.count >= WALFormat.fileHeaderSize else {
            out.problem = StorageError(.corruption, "WAL file header cut short (\(bytes.count) bytes)", file: path, offset: 0)
            return out
        }
        guard Array(bytes[0..<4]) == WALFormat.magic else {
            out.problem = StorageError(.corruption, "not a WAL file (bad magic)", file: path, offset: 0)
            return out
        }
        let version = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        guard WALFormat.readableVersions.contains(version) else {
            out.problem = StorageError(.unsupportedVersion, "WAL version \(version), this build reads \(WALFormat.readableVersions.lowerBound) to \(WALFormat.readableVersions.upperBound)", file: path, offset: 4)
            return out
        }
        var offset = WALFormat.fileHeaderSize
        out.validLength = Int64(offset)
        while offset < bytes.count {
            let here = Int64(offset)
            guard bytes.count - offset >= WALFormat.recordHeaderSize else {
                out.problem = StorageError(.corruption, "record header cut short: \(bytes.count - offset) of 8 bytes", file: path, offset: here)
                return out
            }
            let length = Int(bytes.loadLE32(at: offset))
            let crc = bytes.loadLE32(at: offset + 4)
            guard length >= WALFormat.bodyHeaderSize, length <= WALFormat.maxRecordSize else {
                out.problem = StorageError(.corruption, "record length \(length) is impossible", file: path, offset: here)
                return out
            }
            guard length <= bytes.count - offset - 8 else {
                out.problem = StorageError(.corruption, "record cut short: \(bytes.count - offset - 8) of \(length) bytes present", file: path, offset: here)
                return out
            }
            let bodyStart = offset + 8
            guard CRC32C.checksum(bytes[bodyStart..<(bodyStart + length)]) == crc else {
                out.problem = StorageError(.corruption, "record checksum mismatch", file: path, offset: here)
                return out
            }
            do throws(StorageError) {
                out.records.append(try decodeBody(bytes, from: bodyStart, length: length))
            } catch {
                out.problem = error.located(file: path, offset: here)
                return out
            }
            offset = bodyStart + length
            out.validLength = Int64(offset)
        }
        return out
    }

    private static func decodeBody(_ bytes: [UInt8], from start: Int, length: Int) throws(StorageError) -> WALRecord {
        var c = ByteCursor(bytes, from: start, to: start + length)
        let type = try c.readByte()
        guard type == WALFormat.runBatchType else { throw c.corruption("unknown WAL record type \(type)") }
        let seq = try c.readLE64()
        let compRaw = try c.readByte()
        guard let compression = BlockCompression(rawValue: compRaw) else { throw c.corruption("unknown compression \(compRaw)") }
        let rawLength = Int(try c.readLE32())
        let stored = try c.readBytes(c.remaining)
        let payload = try compression.decompress(stored, rawLength: rawLength)
        var pc = ByteCursor(payload)
        let runs = try RunBatchCodec.decode(&pc)
        guard pc.isAtEnd else { throw StorageError(.corruption, "\(pc.remaining) bytes left over after the run batch") }
        return WALRecord(sequence: seq, runs: runs)
    }
}

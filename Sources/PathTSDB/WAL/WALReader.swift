/// One intact WAL record.
struct WALRecord {
    let sequence: WALSequence
    let runs: [TraceRun]
}

/// What reading one WAL file found: its intact records and, if it stopped early, why and where.
struct WALFileContents {
    var records: [WALRecord] = []
    /// The file length up to the end of the last intact record.
    var validLength: Int64 = 0
    /// Damage that ended the reading: a record cut short, impossible, or failing its checksum.
    var problem: StorageError?
    /// The file header itself is damaged (magic, version, first sequence): nothing of the file
    /// can be trusted to be this store's, so it is set aside whole, not cut.
    var headerDamaged = false
    /// Breaks in the run of sequence numbers among intact records (records lost in between).
    var sequenceProblems: [StorageError] = []
}

/// Reads WAL files record by record (framed as `RecordLog` frames), stopping at the first record
/// that is cut short or fails its checksum; a break in the run of sequence numbers is reported
/// and the records after it are read.
enum WALReader {
    static func read(path: String, bytes: [UInt8]) -> WALFileContents {
        var out = WALFileContents()
        guard bytes.count >= WALFormat.fileHeaderSize else {
            out.problem = StorageError(.corruption, "WAL file header cut short (\(bytes.count) bytes)", file: path, offset: 0)
            return out
        }
        guard Array(bytes[0..<4]) == WALFormat.magic else {
            out.problem = StorageError(.corruption, "not a WAL file (bad magic)", file: path, offset: 0)
            out.headerDamaged = true
            return out
        }
        let version = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        guard WALFormat.readableVersions.contains(version) else {
            out.problem = StorageError(.unsupportedVersion, "WAL version \(version), this build reads \(WALFormat.readableVersions.lowerBound) to \(WALFormat.readableVersions.upperBound)", file: path, offset: 4)
            out.headerDamaged = true
            return out
        }
        guard bytes[6] == 0 && bytes[7] == 0 else {
            out.problem = StorageError(.corruption, "WAL header field reserved is not 0", file: path, offset: 6)
            out.headerDamaged = true
            return out
        }
        let first = WALSequence(rawValue: bytes.loadLE64(at: 8))
        let named = WALFormat.firstSequence(ofFileNamed: String(path.split(separator: "/").last ?? ""))
        if let named, named != first {
            out.problem = StorageError(.corruption, "first sequence \(first), the file name says \(named)", file: path, offset: 8)
            out.headerDamaged = true
            return out
        }
        // Sequence numbers go up by one per record, from the file's first. A break is reported
        // and reading goes on: the records after it are intact and were acknowledged.
        var expected = first
        let (end, problem) = RecordLog.read(bytes, from: WALFormat.fileHeaderSize, path: path,
                                            lengths: WALFormat.bodyHeaderSize...WALFormat.maxRecordSize) { (c: inout ByteCursor) throws(StorageError) in
            let at = Int64(c.position - WALFormat.recordHeaderSize)
            let record = try decodeBody(&c)
            if record.sequence != expected {
                let (got, want) = (record.sequence.rawValue, expected.rawValue)
                let what = got > want
                    ? "records \(want) to \(got - 1) are missing before record \(got)"
                    : "record \(got) follows record \(want &- 1): sequence numbers went back"
                out.sequenceProblems.append(StorageError(.corruption, what, file: path, offset: at))
            }
            out.records.append(record)
            expected = record.sequence.next
        }
        out.validLength = Int64(end)
        out.problem = problem
        return out
    }

    private static func decodeBody(_ c: inout ByteCursor) throws(StorageError) -> WALRecord {
        let type = try c.readByte()
        guard type == WALFormat.runBatchType else { throw c.corruption("unknown WAL record type \(type)") }
        let seq = WALSequence(rawValue: try c.readLE64())
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

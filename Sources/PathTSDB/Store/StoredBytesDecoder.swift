import Glibc

/// Every decoder of stored bytes behind one door, for the fuzz targets (`Fuzz/`): on disk a
/// checksum guards each block and record, so bytes mutated at random rarely get past it to the
/// decoder. These hand the decoders bytes that passed no checksum, as a checksum collision or a
/// bug in a writer would; each must answer with a `StorageError`, never trap.
package enum StoredBytesDecoder {
    /// What the bytes are taken for.
    package enum Kind: String, CaseIterable, Sendable {
        /// A whole segment file, through `Segment` and every block it indexes.
        case segmentFile = "segment-file"
        /// A segment's index block body (FORMAT.md, "Index block body").
        case segmentIndex = "segment-index"
        /// A chunk block body, decoded against a small catalog.
        case chunk
        /// An events block body.
        case events
        /// A detector state block body.
        case detectorState = "detector-state"
        /// A rollup block body.
        case rollups
        /// A whole WAL file.
        case walFile = "wal-file"
        /// One WAL record's run batch.
        case walBatch = "wal-batch"
        /// One catalog record body.
        case catalogRecord = "catalog-record"
        /// One missed-slot record body.
        case missedRecord = "missed-record"
        /// One alert record body.
        case alertRecord = "alert-record"
    }

    /// Decodes `bytes` as `kind` written by segment `version` (where versions differ); returns
    /// how many items (runs, events, rows, records) it found.
    /// - Parameter scratchDirectory: where a whole segment file is written to be opened.
    package static func decode(_ kind: Kind, version: UInt16, _ bytes: [UInt8], scratchDirectory: String) throws(StorageError) -> Int {
        var c = ByteCursor(bytes)
        switch kind {
        case .segmentFile:
            return try decodeSegmentFile(bytes, in: scratchDirectory)
        case .segmentIndex:
            // The blocks an index places lie in a file many times its size.
            return try SegmentIndex.decode(&c, fileSize: Int64(bytes.count) * 64 + 4096).entries.count
        case .chunk:
            return try ChunkCodec.decode(bytes, target: TargetID(rawValue: 1), catalog: sampleCatalog, fileOffset: 0, version: version).runs.count
        case .events:
            return try EventCodec.decode(&c, version: version).count
        case .detectorState:
            let d = try PathChangeDetector.decode(&c, version: version)
            return d.flows.count + d.routes.count
        case .rollups:
            return try RollupCodec.decode(&c, target: TargetID(rawValue: 1), version: version).count
        case .walFile:
            let contents = WALReader.read(path: scratchDirectory + "/fuzz.wal", bytes: bytes)
            if let problem = contents.problem, contents.records.isEmpty { throw problem }
            return contents.records.count
        case .walBatch:
            return try RunBatchCodec.decode(&c).count
        case .catalogRecord:
            var catalog = Catalog()
            catalog.load(try CatalogEntry.decode(&c))
            return 1
        case .missedRecord:
            _ = try MissedSlot.decode(&c)
            return 1
        case .alertRecord:
            _ = try AlertRecord.decode(&c)
            return 1
        }
    }

    /// Writes `bytes` as a segment file, opens it with every block checked, and reads each
    /// target's runs and rollups, the events and the detector state.
    private static func decodeSegmentFile(_ bytes: [UInt8], in directory: String) throws(StorageError) -> Int {
        let path = directory + "/" + SegmentFormat.fileName(id: SegmentID(rawValue: 1))
        let file = try PosixFile(path: path, flags: O_RDWR | O_CREAT | O_TRUNC)
        try file.write(bytes, at: 0)
        let segment = try Segment(path: path, verifyBlocks: true)
        var items = try segment.events().count
        _ = try segment.detectorState()
        // Every target is read, past one whose runs do not decode, as `verify` does.
        var firstProblem: StorageError?
        for target in segment.targets {
            do throws(StorageError) {
                items += try segment.runs(of: target, catalog: sampleCatalog).runs.count
            } catch {
                firstProblem = firstProblem ?? error
            }
            items += try segment.rollups(of: target).count
        }
        if let firstProblem { throw firstProblem }
        return items
    }

    /// A catalog of 64 addresses and as many paths, for chunks whose ids refer to it.
    private static let sampleCatalog: Catalog = {
        var catalog = Catalog()
        _ = catalog.intern(target: "fuzz")
        _ = catalog.intern(vantage: "fuzz")
        var ids = [AddressID]()
        for n in 0..<64 as Range<UInt32> { ids.append(catalog.intern(address: IPAddress(v4: 0x0A00_0000 | n))) }
        for n in 1...64 { _ = catalog.intern(path: PathHops(sets: (0..<n % 8 + 1).map { [ids[($0 + n) % 64]] })) }
        return catalog
    }()
}

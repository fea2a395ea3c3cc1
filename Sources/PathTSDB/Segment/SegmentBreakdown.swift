/// Where a store's segment bytes go, section by section: what `stserver info --breakdown` prints.
package struct SegmentBreakdown: Sendable {
    /// Bytes of the compressed run and probe columns.
    package var columnBytes = 0
    /// Raw (uncompressed) bytes of each column, by name.
    package var columnRawBytes: [String: Int] = [:]
    /// Bytes of the RTT sections: rANS table and stream, raw low bits.
    package var rttTableBytes = 0
    package var rttStreamBytes = 0
    package var rttRawBitsBytes = 0
    package var rollupBytes = 0
    package var eventBytes = 0
    package var indexAndFramingBytes = 0
    package var fileBytes = 0

    static let columnNames = ["start", "duration", "vantage", "method", "flow", "destination", "run_flags", "path",
                              "probe_count", "ttl_step", "probe_status", "other_address", "reply_ttl", "icmp_type",
                              "icmp_code", "mpls_count", "mpls_labels", "rtt_escapes", "report_figures"]

    package init() {}

    /// Adds `segment`'s sections.
    package mutating func add(_ segment: Segment) throws(StorageError) {
        fileBytes += Int(segment.fileSize)
        var accounted = 0
        for e in segment.index.entries {
            rollupBytes += e.rollupLength
            accounted += e.rollupLength
            guard e.chunkLength > 0 else { continue }
            let body = try segment.chunkBody(e)
            accounted += e.chunkLength
            var c = ByteCursor(body)
            _ = try c.readVarint()
            _ = try c.readVarint()
            let columns = try ChunkColumns.read(&c, version: segment.version, details: true)
            columnBytes += columns.storedBytes
            for (i, name) in SegmentBreakdown.columnNames.enumerated() {
                columnRawBytes[name, default: 0] += columns.ranges[i].count
            }
            let sectionStart = c.position
            _ = try RANSCoder.Table.decode(&c)
            rttTableBytes += c.position - sectionStart
            _ = try c.readVarint()
            let streamLength = try c.readVarintInt(max: body.count)
            rttStreamBytes += streamLength
            try c.skip(streamLength)
            rttRawBitsBytes += c.remaining
        }
        eventBytes += segment.index.eventsLength
        accounted += segment.index.eventsLength
        indexAndFramingBytes += Int(segment.fileSize) - accounted
    }
}

extension Segment {
    func chunkBody(_ e: SegmentTargetEntry) throws(StorageError) -> [UInt8] {
        let file = try PosixFile(path: path, flags: 0)
        return Array(try Segment.checkBlock(try file.read(at: e.chunkOffset, count: e.chunkLength), path: path, offset: e.chunkOffset))
    }
}

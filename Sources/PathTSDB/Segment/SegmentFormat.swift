/// Constants and names of segment files (FORMAT.md, "Segment file").
package enum SegmentFormat {
    static let magic: [UInt8] = Array("PTSG".utf8)
    static let footerMagic: [UInt8] = Array("PTSE".utf8)
    /// The version this build writes.
    static let version: UInt16 = 6
    /// The versions it reads: 1 to 3 differ in how an RTT series' quantisation step follows its
    /// values (FORMAT.md, "RTT section"); 4 codes chunks as 3 does, and adds the header's
    /// checksum to the footer, flags to each event and load-balanced routes to the detector state;
    /// 5 adds interrupted and report runs (run flags, report figures in column 18); 6 adds to each
    /// load-balanced route of the detector state its runs without branches.
    static let readableVersions: ClosedRange<UInt16> = 1...6
    /// The first version whose footer carries the header's CRC-32C.
    static let headerChecksumVersion: UInt16 = 4
    /// The first version whose rollups hold the end-to-end rows (TTL 0).
    package static let endToEndRollupVersion: UInt16 = 4
    /// The first version whose runs may be interrupted or reports.
    static let reportVersion: UInt16 = 5
    /// The first version whose load-balanced routes count their runs without branches.
    static let branchEvidenceVersion: UInt16 = 6
    static let headerSize = 32
    static let footerSize = 24
    /// length u32 + crc32c u32 before every block body.
    static let blockHeaderSize = 8
    /// The level byte of a rollup-only file written by retention.
    static let rollupOnlyLevel: UInt8 = 255

    static func fileName(id: SegmentID) -> String {
        let hex = String(id.rawValue, radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".seg"
    }

    static func id(ofFileNamed name: String) -> SegmentID? {
        guard name.hasSuffix(".seg"), name.count == 20 else { return nil }
        return UInt64(name.prefix(16), radix: 16).map(SegmentID.init(rawValue:))
    }
}

/// Where one target's data sits in a segment.
struct SegmentTargetEntry: Sendable, Equatable {
    var target: TargetID
    var minStartMicros: Int64
    var maxStartMicros: Int64
    var runCount: Int
    var probeCount: Int
    /// Probes that got a reply (RTT samples).
    var sampleCount: Int
    var chunkOffset: Int64
    var chunkLength: Int
    var rollupOffset: Int64
    var rollupLength: Int
}

/// A segment's index block: everything needed to find and prune its data without reading it.
struct SegmentIndex: Sendable, Equatable {
    var walHighWater: WALSequence
    /// Segments this one replaced (compaction inputs); any still on disk are leftovers.
    var sources: [SegmentID]
    var eventsOffset: Int64
    var eventsLength: Int
    var stateOffset: Int64
    var stateLength: Int
    var eventCount: Int
    var entries: [SegmentTargetEntry]

    func encode(into out: inout [UInt8]) {
        out.appendLE(walHighWater.rawValue)
        out.appendVarint(sources.count)
        for s in sources { out.appendVarint(s.rawValue) }
        out.appendVarint(UInt64(eventsOffset))
        out.appendVarint(eventsLength)
        out.appendVarint(UInt64(stateOffset))
        out.appendVarint(stateLength)
        out.appendVarint(eventCount)
        out.appendVarint(entries.count)
        var prevTarget: UInt32 = 0
        for e in entries {
            out.appendVarint(e.target.rawValue - prevTarget)
            prevTarget = e.target.rawValue
            out.appendZigzag(e.minStartMicros)
            out.appendVarint(UInt64(e.maxStartMicros - e.minStartMicros))
            out.appendVarint(e.runCount)
            out.appendVarint(e.probeCount)
            out.appendVarint(e.sampleCount)
            out.appendVarint(UInt64(e.chunkOffset))
            out.appendVarint(e.chunkLength)
            out.appendVarint(UInt64(e.rollupOffset))
            out.appendVarint(e.rollupLength)
        }
    }

    static func decode(_ c: inout ByteCursor, fileSize: Int64) throws(StorageError) -> SegmentIndex {
        let high = WALSequence(rawValue: try c.readLE64())
        let sourceCount = try c.readVarintInt(max: 1 << 20)
        var sources = [SegmentID]()
        for _ in 0..<sourceCount { sources.append(SegmentID(rawValue: try c.readVarint())) }
        let eOff = Int64(try c.readVarintInt(max: Int(fileSize)))
        let eLen = try c.readVarintInt(max: Int(fileSize))
        let sOff = Int64(try c.readVarintInt(max: Int(fileSize)))
        let sLen = try c.readVarintInt(max: Int(fileSize))
        let eventCount = try c.readVarintInt()
        let n = try c.readVarintInt(max: 1 << 24)
        var entries = [SegmentTargetEntry]()
        entries.reserveCapacity(n)
        var prevTarget: UInt32 = 0
        for _ in 0..<n {
            let t = prevTarget + UInt32(try c.readVarintInt(max: Int(UInt32.max - prevTarget)))
            prevTarget = t
            let minS = try c.readZigzag()
            let span = try c.readVarint()
            guard span < UInt64(Int64.max) else { throw c.corruption("time span out of range") }
            let e = SegmentTargetEntry(
                target: TargetID(rawValue: t), minStartMicros: minS, maxStartMicros: minS &+ Int64(span),
                runCount: try c.readVarintInt(), probeCount: try c.readVarintInt(), sampleCount: try c.readVarintInt(),
                chunkOffset: Int64(try c.readVarintInt(max: Int(fileSize))), chunkLength: try c.readVarintInt(max: Int(fileSize)),
                rollupOffset: Int64(try c.readVarintInt(max: Int(fileSize))), rollupLength: try c.readVarintInt(max: Int(fileSize)))
            for (off, len) in [(e.chunkOffset, e.chunkLength), (e.rollupOffset, e.rollupLength)] where off + Int64(len) > fileSize {
                throw c.corruption("target \(t): block at \(off)+\(len) lies past the end of the file")
            }
            entries.append(e)
        }
        return SegmentIndex(walHighWater: high, sources: sources, eventsOffset: eOff, eventsLength: eLen,
                            stateOffset: sOff, stateLength: sLen, eventCount: eventCount, entries: entries)
    }
}

/// The binary form of path-change events.
enum EventCodec {
    static func encode(_ events: [PathChangeEvent], into out: inout [UInt8]) {
        out.appendVarint(events.count)
        var prevTime: Int64 = 0
        for e in events {
            out.appendVarint(e.target.rawValue)
            out.appendVarint(e.vantage.rawValue)
            out.appendZigzag(e.timeMicros - prevTime)
            prevTime = e.timeMicros
            out.appendVarint(e.oldPath.rawValue)
            out.appendVarint(e.newPath.rawValue)
            out.append(e.firstDifferingTTL)
            out.append(e.oldHopCount)
            out.append(e.newHopCount)
            out.append(e.flags.rawValue)
        }
    }

    /// Events as `version` wrote them: with a flags byte each from version 4 on.
    static func decode(_ c: inout ByteCursor, version: UInt16) throws(StorageError) -> [PathChangeEvent] {
        let n = try c.readVarintInt(max: 1 << 26)
        var out = [PathChangeEvent]()
        out.reserveCapacity(n)
        var prevTime: Int64 = 0
        for _ in 0..<n {
            let t = TargetID(rawValue: UInt32(try c.readVarintInt(max: Int(UInt32.max))))
            let v = VantageID(rawValue: UInt32(try c.readVarintInt(max: Int(UInt32.max))))
            prevTime &+= try c.readZigzag()
            let o = PathID(rawValue: UInt32(try c.readVarintInt(max: Int(UInt32.max))))
            let nw = PathID(rawValue: UInt32(try c.readVarintInt(max: Int(UInt32.max))))
            var e = PathChangeEvent(target: t, vantage: v, timeMicros: prevTime, oldPath: o, newPath: nw,
                                    firstDifferingTTL: try c.readByte(), oldHopCount: try c.readByte(), newHopCount: try c.readByte())
            if version >= 4 {
                let flags = PathChangeEvent.Flags(rawValue: try c.readByte())
                guard PathChangeEvent.Flags.known.isSuperset(of: flags) else { throw c.corruption("event flags \(flags.rawValue) unknown") }
                e.flags = flags
            }
            out.append(e)
        }
        guard c.remaining == 0 else { throw c.corruption("\(c.remaining) bytes left over after the last event") }
        return out
    }
}

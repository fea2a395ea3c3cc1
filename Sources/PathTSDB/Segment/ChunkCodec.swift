/// Encodes and decodes one target's runs in a segment: the "chunk" (FORMAT.md, "Chunk").
///
/// Run and probe fields go to columns, each with a codec for its data: delta-of-delta start
/// times, path ids, TTL steps, probe status against the path (so addresses cost nothing unless a
/// probe answered from somewhere else), reply fields as changes per series. The columns are
/// compressed together with ZSTD; the RTTs follow in their own entropy-coded section.
enum ChunkCodec {
    /// The chunk body for `table`, whose runs are all of one target and in start-time order.
    static func encode(_ table: RunTable, catalog: Catalog, zstdLevel: Int32) throws(StorageError) -> [UInt8] {
        var cols = [[UInt8]](repeating: [], count: ChunkColumns.count)
        let runs = table.runs
        var indexer = SeriesIndexer()
        // Series are numbered from the paths alone, in run order, exactly as the decoder does;
        // each run's hops and series are kept for the pass below.
        var pathOfRun = [(hops: PathHops, series: [Int32])]()
        pathOfRun.reserveCapacity(runs.count)
        for run in runs {
            guard let hops = catalog.path(of: run.path) else {
                throw StorageError(.invalidArgument, "run refers to path \(run.path.rawValue), unknown to the catalog")
            }
            pathOfRun.append((hops, hops.hopCount == 0 ? [] : try indexer.series(for: run.path, maxTTL: hops.hopCount, catalog: catalog)))
        }
        var rtt = RTTEncoder(seriesCount: Int(indexer.count))
        var lastReplyTTL = [UInt8](), lastType = [UInt8](), lastCode = [UInt8]()
        var prevStart: Int64 = 0, prevDelta: Int64 = 0, prevFlow: Int64 = 0

        for (i, run) in runs.enumerated() {
            let delta = run.startMicros - prevStart
            cols[0].appendZigzag(i == 0 ? run.startMicros : delta - prevDelta)
            prevDelta = i == 0 ? 0 : delta
            prevStart = run.startMicros
            cols[1].appendVarint(UInt64(run.endMicros - run.startMicros))
            cols[2].appendVarint(run.vantage.rawValue)
            cols[3].append(run.method.rawValue)
            cols[4].appendZigzag(Int64(run.flowID) - prevFlow)
            prevFlow = Int64(run.flowID)
            cols[5].appendVarint(run.destination.rawValue)
            cols[6].append(RunFlagBits.of(run))
            cols[7].appendVarint(run.path.rawValue)
            cols[8].appendVarint(UInt64(run.probeCount))

            let probes = table.probes[run.probeRange]
            let (hops, seriesOfTTL) = pathOfRun[i]
            var prevTTL: UInt8 = 0
            for p in probes {
                cols[9].append(p.ttl &- prevTTL)
                prevTTL = p.ttl
                let expected = hops.address(atTTL: Int(p.ttl))
                if p.address == expected {
                    cols[10].append(0)
                } else if p.isLoss {
                    cols[10].append(1)
                } else {
                    cols[10].append(2)
                    cols[11].appendVarint(p.address.rawValue)
                }
                guard !p.isLoss else { continue }
                guard Int(p.ttl) <= seriesOfTTL.count else {
                    throw StorageError(.invalidArgument, "probe at TTL \(p.ttl) answered beyond its path's \(hops.hopCount) hops")
                }
                let s = Int(seriesOfTTL[Int(p.ttl) - 1])
                while lastReplyTTL.count <= s { lastReplyTTL.append(0); lastType.append(0); lastCode.append(0) }
                cols[12].append(p.replyTTL &- lastReplyTTL[s])
                cols[13].append(p.icmpType ^ lastType[s])
                cols[14].append(p.icmpCode ^ lastCode[s])
                lastReplyTTL[s] = p.replyTTL
                lastType[s] = p.icmpType
                lastCode[s] = p.icmpCode
                let labels = table.mplsLabels(of: p)
                cols[15].append(UInt8(clamping: labels.count))
                for l in labels.prefix(255) { cols[16].appendLE(l.rawValue) }
                // A report's replies are untimed: no symbol, and their series learn nothing.
                if !run.isReport { rtt.encode(p.rttMicros, series: Int32(s)) }
            }
            rtt.endRun(series: seriesOfTTL)
            if let figures = table.figures(of: run) { FigureColumn.append(figures, to: &cols[18]) }
        }
        let rttSection = rtt.finish()
        cols[17] = rtt.escapes

        var body = [UInt8]()
        body.appendVarint(runs.count)
        body.appendVarint(table.probes.count)
        ChunkColumns.encode(cols, level: zstdLevel, into: &body)
        body.append(contentsOf: rttSection)
        return body
    }

    static let columnNames = SegmentBreakdown.columnNames

    /// Decodes a chunk body back into runs of `target`.
    ///
    /// Run columns first; then the series are numbered from the runs' paths, as the encoder did;
    /// then one pass over the probes rebuilds addresses, RTTs and, when `fields` asks for them,
    /// the reply fields (reply TTL, ICMP type and code, MPLS labels), whose columns are
    /// otherwise not read at all.
    static func decode(_ body: [UInt8], target: TargetID, catalog: Catalog, fileOffset: Int64,
                       version: UInt16 = SegmentFormat.version, fields: ProbeFields = .all) throws(StorageError) -> RunTable {
        var c = ByteCursor(body, fileOffset: fileOffset)
        let runCount = try c.readVarintInt(max: 1 << 26)
        let probeCount = try c.readVarintInt(max: 1 << 30)
        let columns = try ChunkColumns.read(&c, version: version, details: fields.contains(.replyDetails))
        let (raw, ranges, columnsOffset) = (columns.raw, columns.ranges, columns.fileOffset)
        let rttStorage = try RTTDecoder.Storage(section: Array(body[c.position...]), maxSymbols: probeCount,
                                                fileOffset: fileOffset + Int64(c.position), version: version)
        return try raw.withUnsafeBufferPointer { (buf) throws(StorageError) -> RunTable in
            func column(_ i: Int) -> ColumnReader {
                ColumnReader(buf, range: ranges[i], fileOffset: columnsOffset, name: columnNames[i])
            }
            // Runs.
            var runs = [RunRecord]()
            runs.reserveCapacity(runCount)
            var startCol = column(0), durationCol = column(1), vantageCol = column(2), methodCol = column(3)
            var flowCol = column(4), destinationCol = column(5), flagsCol = column(6), pathCol = column(7), countCol = column(8)
            var figuresCol = column(18)
            var figureLists = [[HopFigures]]()
            var prevStart: Int64 = 0, prevDelta: Int64 = 0, prevFlow: Int64 = 0
            var firstProbe = 0
            var indexer = SeriesIndexer()
            // Each distinct path once: its hop addresses and series, flat, so the probe loop
            // finds a run's by index instead of by hashing its path id.
            var slotOfPath = [PathID: Int]()
            var lastPath: PathID?, lastSlot = 0, otherPath: PathID?, otherSlot = 0
            var runSlot = [Int]()
            runSlot.reserveCapacity(runCount)
            var slotStart = [Int](), slotHops = [AddressID](), slotSeries = [Int32]()
            for i in 0..<runCount {
                let dod = try startCol.zigzag()
                let start: Int64
                if i == 0 {
                    start = dod
                } else {
                    prevDelta &+= dod
                    start = prevStart &+ prevDelta
                }
                prevStart = start
                let duration = try durationCol.varint()
                let vantage = VantageID(rawValue: try vantageCol.varint32())
                let methodRaw = try methodCol.byte()
                guard let method = TraceMethod(rawValue: methodRaw) else { throw methodCol.corruption("unknown method \(methodRaw)") }
                let flow = prevFlow &+ (try flowCol.zigzag())
                guard flow >= 0 && flow <= 65535 else { throw flowCol.corruption("flow id \(flow) out of range") }
                prevFlow = flow
                let destination = AddressID(rawValue: try destinationCol.varint32())
                let flags = try flagsCol.byte()
                guard flags & ~RunFlagBits.known(version: version) == 0 else { throw flagsCol.corruption("unknown run flags \(flags)") }
                let path = PathID(rawValue: try pathCol.varint32())
                let n = Int(try countCol.varint32())
                guard n <= probeCount - firstProbe else { throw countCol.corruption("runs hold more probes than the chunk's \(probeCount)") }
                // Consecutive runs mostly follow one path, or alternate between two (ECMP
                // paths taken by turns of the flow id): both compared before hashing.
                if path == lastPath {
                    runSlot.append(lastSlot)
                } else if path == otherPath {
                    runSlot.append(otherSlot)
                    swap(&lastPath, &otherPath)
                    swap(&lastSlot, &otherSlot)
                } else if let slot = slotOfPath[path] {
                    runSlot.append(slot)
                    (otherPath, otherSlot) = (lastPath, lastSlot)
                    (lastPath, lastSlot) = (path, slot)
                } else {
                    guard let hops = catalog.path(of: path) else {
                        throw pathCol.corruption("run refers to path \(path.rawValue), which the catalog does not hold")
                    }
                    slotOfPath[path] = slotStart.count
                    runSlot.append(slotStart.count)
                    (otherPath, otherSlot) = (lastPath, lastSlot)
                    (lastPath, lastSlot) = (path, slotStart.count)
                    slotStart.append(slotHops.count)
                    slotHops.append(contentsOf: hops.hops)
                    // Series are numbered in order of first appearance, as the encoder did.
                    if hops.hopCount > 0 { slotSeries.append(contentsOf: try indexer.series(for: path, maxTTL: hops.hopCount, catalog: catalog)) }
                }
                var record = RunRecord(target: target, vantage: vantage, method: method, flowID: UInt16(flow),
                                       reached: flags & RunFlagBits.reached != 0,
                                       startMicros: start, endMicros: start &+ Int64(bitPattern: duration), destination: destination,
                                       path: path, firstProbe: Int32(firstProbe), probeCount: Int32(n))
                record.interrupted = flags & RunFlagBits.interrupted != 0
                if flags & RunFlagBits.report != 0 {
                    figureLists.append(try FigureColumn.read(&figuresCol))
                    record.figuresIndex = Int32(figureLists.count)
                }
                runs.append(record)
                firstProbe += n
            }
            guard firstProbe == probeCount else {
                throw countCol.corruption("chunk says \(probeCount) probes, its runs hold \(firstProbe)")
            }
            slotStart.append(slotHops.count)

            // Probes.
            let seriesCount = Int(indexer.count)
            var mplsStacks = [[MPLSLabel]]()
            let probes = try RTTDecoder.withDecoder(storage: rttStorage, seriesCount: seriesCount, version: version, escapes: ByteCursor(raw, from: ranges[17].lowerBound, to: ranges[17].upperBound, fileOffset: columnsOffset)) { (rtt: inout RTTDecoder) throws(StorageError) -> [ProbeRecord] in
                let details = fields.contains(.replyDetails)
                // Per run: the answered probes' series and slots, then their values in one call.
                let longestRun = runs.reduce(0) { max($0, Int($1.probeCount)) }
                let runSeries = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(longestRun, 1))
                let runSlots = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(longestRun, 1))
                let runValues = UnsafeMutablePointer<UInt32>.allocate(capacity: max(longestRun, 1))
                let hopTable = UnsafeMutableBufferPointer<AddressID>.allocate(capacity: max(slotHops.count, 1))
                _ = hopTable.initialize(from: slotHops)
                let seriesTable = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(slotSeries.count, 1))
                _ = seriesTable.initialize(from: slotSeries)
                defer {
                    hopTable.deallocate()
                    seriesTable.deallocate()
                    runSeries.deallocate()
                    runSlots.deallocate()
                    runValues.deallocate()
                }
                var failure: StorageError?
                let (runs, runSlot, slotStart) = (runs, runSlot, slotStart)
                let probes = [ProbeRecord](unsafeUninitializedCapacity: probeCount) { out, initialized in
                    // The loop's state in locals of this closure, not captured from outside it,
                    // so that the compiler may keep it in registers.
                    var ttlCol = column(9), statusCol = column(10), otherCol = column(11), replyTTLCol = column(12)
                    var typeCol = column(13), codeCol = column(14), mplsCountCol = column(15), labelCol = column(16)
                    var lastReplyTTL = [UInt8](repeating: 0, count: details ? seriesCount : 0)
                    var lastType = lastReplyTTL, lastCode = lastReplyTTL
                    // The decoder in a local of this closure, for the same reason.
                    var d = rtt
                    defer { rtt = d }
                    do throws(StorageError) {
                        for (r, run) in runs.enumerated() {
                            let slot = runSlot[r]
                            let first = slotStart[slot], hopCount = slotStart[slot + 1] - first
                            let hops = UnsafeBufferPointer(rebasing: hopTable[first..<(first + hopCount)])
                            let seriesOfTTL = UnsafeBufferPointer(rebasing: seriesTable[first..<(first + hopCount)])
                            let n = Int(run.probeCount)
                            // One byte per probe in each: checked once for the whole run.
                            try ttlCol.require(n)
                            try statusCol.require(n)
                            // TTL steps summing to at most 255 never wrap, so the TTLs never
                            // decrease and each series' values are consecutive. When they also
                            // stay within the path (a run's path reaches its highest TTL, so
                            // they do but in damaged chunks), version 3 reads the run in one
                            // call, unless the chunk's last runs leave too little room for
                            // reading without checks.
                            let stepSum = ttlCol.uncheckedSum(of: n)
                            let runStart = initialized
                            if !run.isReport, stepSum <= hopCount, d.canDecodeUnchecked(probes: n),
                               let ttlSteps = ttlCol.uncheckedPointer, ttlSteps.pointee >= 1,
                               let statuses = statusCol.uncheckedPointer,
                               let hopBase = hops.baseAddress, let seriesBase = seriesOfTTL.baseAddress, let outBase = out.baseAddress {
                                try d.decodeAscendingRun(ttlSteps: ttlSteps, statuses: statuses, count: n, hops: hopBase,
                                                         seriesOfTTL: seriesBase, others: &otherCol, statusColumn: statusCol,
                                                         into: outBase + initialized)
                                ttlCol.uncheckedSkip(n)
                                statusCol.uncheckedSkip(n)
                                initialized += n
                            } else {
                                // Otherwise probe by probe, checking each, and the run's values
                                // gathered, decoded in one call and scattered back.
                                var ttl: UInt8 = 0
                                var answered = 0
                                for _ in 0..<n {
                                    ttl &+= ttlCol.uncheckedByte()
                                    guard ttl >= 1 else { throw ttlCol.corruption("probe with TTL 0") }
                                    let status = statusCol.uncheckedByte()
                                    let address: AddressID
                                    switch status {
                                    case 0: address = Int(ttl) <= hopCount ? hops[Int(ttl) - 1] : .none
                                    case 1: address = .none
                                    case 2: address = AddressID(rawValue: try otherCol.varint32())
                                    default: throw statusCol.corruption("unknown probe status \(status)")
                                    }
                                    if !address.isNone {
                                        guard Int(ttl) <= seriesOfTTL.count else {
                                            throw ttlCol.corruption("answered probe at TTL \(ttl) beyond its path's \(hopCount) hops")
                                        }
                                        if !run.isReport {
                                            runSeries[answered] = seriesOfTTL[Int(ttl) - 1]
                                            runSlots[answered] = initialized
                                            answered += 1
                                        }
                                    }
                                    out[initialized] = ProbeRecord(ttl: ttl, replyTTL: 0, icmpType: 0, icmpCode: 0, address: address,
                                                                   rttMicros: run.isReport && !address.isNone ? ProbeReply.untimed : 0,
                                                                   mplsIndex: 0)
                                    initialized += 1
                                }
                                try d.decodeRun(series: UnsafeBufferPointer(rebasing: runSeries[0..<answered]), into: runValues,
                                                pathSeries: seriesOfTTL, ascending: stepSum <= 255)
                                for k in 0..<answered { out[runSlots[k]].rttMicros = runValues[k] }
                            }
                            // The reply details of the run's answered probes, in probe order, each
                            // against the last of its series.
                            guard details else { continue }
                            for k in runStart..<initialized where !out[k].isLoss {
                                let i = Int(seriesOfTTL[Int(out[k].ttl) - 1])
                                lastReplyTTL[i] &+= try replyTTLCol.byte()
                                lastType[i] ^= try typeCol.byte()
                                lastCode[i] ^= try codeCol.byte()
                                out[k].replyTTL = lastReplyTTL[i]
                                out[k].icmpType = lastType[i]
                                out[k].icmpCode = lastCode[i]
                                let labelCount = Int(try mplsCountCol.byte())
                                if labelCount > 0 {
                                    var labels = [MPLSLabel]()
                                    for _ in 0..<labelCount { labels.append(MPLSLabel(rawValue: try labelCol.le32())) }
                                    mplsStacks.append(labels)
                                    out[k].mplsIndex = UInt32(mplsStacks.count)
                                }
                            }
                        }
                        try d.finish()
                    } catch {
                        failure = error
                    }
                }
                if let failure { throw failure }
                return probes
            }
            guard figuresCol.isAtEnd else { throw figuresCol.corruption("figures left over after the chunk's reports") }
            var table = RunTable()
            table.runs = runs
            table.probes = probes
            table.mplsStacks = mplsStacks
            table.figureLists = figureLists
            return table
        }
    }
}

/// The bits of a run's flags byte (column 6): version 4 and before wrote 0 or 1, the reached bit.
enum RunFlagBits {
    static let reached: UInt8 = 1
    static let interrupted: UInt8 = 2
    static let report: UInt8 = 4

    static func of(_ run: RunRecord) -> UInt8 {
        (run.reached ? reached : 0) | (run.interrupted ? interrupted : 0) | (run.isReport ? report : 0)
    }

    /// The bits a segment of `version` may hold.
    static func known(version: UInt16) -> UInt8 {
        version >= SegmentFormat.reportVersion ? reached | interrupted | report : reached
    }
}

/// Column 18 from version 5: per report run, in run order, `varint` figure count, then per hop
/// `u8` TTL and `varint` last, average, best, worst and standard deviation in µs.
enum FigureColumn {
    static func append(_ figures: [HopFigures], to out: inout [UInt8]) {
        out.appendVarint(figures.count)
        for f in figures {
            out.append(f.ttl)
            for v in [f.lastMicros, f.averageMicros, f.bestMicros, f.worstMicros, f.stdDevMicros] { out.appendVarint(UInt64(v)) }
        }
    }

    static func read(_ col: inout ColumnReader) throws(StorageError) -> [HopFigures] {
        let n = Int(try col.varint32())
        guard n <= 255 else { throw col.corruption("report with \(n) hops of figures") }
        var figures = [HopFigures]()
        figures.reserveCapacity(n)
        var lastTTL: UInt8 = 0
        for _ in 0..<n {
            let ttl = try col.byte()
            guard ttl > lastTTL else { throw col.corruption("report figures at TTL \(ttl) after TTL \(lastTTL)") }
            lastTTL = ttl
            figures.append(HopFigures(ttl: ttl, lastMicros: try col.varint32(), averageMicros: try col.varint32(),
                                      bestMicros: try col.varint32(), worstMicros: try col.varint32(), stdDevMicros: try col.varint32()))
        }
        return figures
    }
}

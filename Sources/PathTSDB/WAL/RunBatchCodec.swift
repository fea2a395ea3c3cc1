/// The self-contained binary form of a batch of `TraceRun`s in a WAL record: names and raw
/// addresses, no dictionary ids, so that replay does not depend on the catalog's state.
enum RunBatchCodec {
    private static let hasReply: UInt8 = 1
    private static let isIPv6: UInt8 = 2
    private static let hasMPLS: UInt8 = 4
    // Run flags (WAL version 2; version 1 wrote 0 or 1, the reached bit alone).
    private static let runReached: UInt8 = 1
    private static let runInterrupted: UInt8 = 2
    private static let runReport: UInt8 = 4

    /// The batch's bytes. Sized first for the most they can take, then written without
    /// per-byte checks: this runs for every batch an append acknowledges.
    static func encode(_ runs: [TraceRun]) -> [UInt8] {
        var bound = 10
        for r in runs {
            bound += UnsafeByteWriter.stringBound(r.target) + UnsafeByteWriter.stringBound(r.vantage) + 1 + 10 + 10 + 10 + 17 + 1 + 10
            for p in r.probes { bound += 1 + 1 + 16 + 10 + 3 + 10 + 4 * p.mplsLabels.count }
            bound += 10 + (r.figures?.count ?? 0) * (1 + 5 * 5)
        }
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, written in
            var out = UnsafeByteWriter(buffer)
            out.varint(UInt64(runs.count))
            for r in runs {
                out.string(r.target)
                out.string(r.vantage)
                out.byte(r.method.rawValue)
                out.varint(UInt64(r.flowID))
                out.zigzag(r.startMicros)
                out.varint(UInt64(bitPattern: r.endMicros &- r.startMicros))
                out.byte(r.destination.isIPv4 ? 4 : 16)
                writeRawAddress(r.destination, into: &out)
                out.byte((r.reached ? runReached : 0) | (r.interrupted ? runInterrupted : 0) | (r.figures != nil ? runReport : 0))
                out.varint(UInt64(r.probes.count))
                for p in r.probes {
                    out.byte(p.ttl)
                    guard let a = p.address else {
                        out.byte(0)
                        continue
                    }
                    var flags = hasReply
                    if !a.isIPv4 { flags |= isIPv6 }
                    if !p.mplsLabels.isEmpty { flags |= hasMPLS }
                    out.byte(flags)
                    writeRawAddress(a, into: &out)
                    out.varint(UInt64(p.rttMicros))
                    out.byte(p.replyTTL)
                    out.byte(p.icmpType)
                    out.byte(p.icmpCode)
                    if !p.mplsLabels.isEmpty {
                        out.varint(UInt64(p.mplsLabels.count))
                        for l in p.mplsLabels { out.le32(l.rawValue) }
                    }
                }
                if let figures = r.figures {
                    out.varint(UInt64(figures.count))
                    for f in figures {
                        out.byte(f.ttl)
                        for v in [f.lastMicros, f.averageMicros, f.bestMicros, f.worstMicros, f.stdDevMicros] { out.varint(UInt64(v)) }
                    }
                }
            }
            written = out.count
        }
    }

    static func decode(_ c: inout ByteCursor) throws(StorageError) -> [TraceRun] {
        let count = try c.readVarintInt(max: 1 << 24)
        var runs = [TraceRun]()
        runs.reserveCapacity(count)
        for _ in 0..<count {
            let target = try c.readString()
            let vantage = try c.readString()
            let methodRaw = try c.readByte()
            guard let method = TraceMethod(rawValue: methodRaw) else { throw c.corruption("unknown trace method \(methodRaw)") }
            let flow = try c.readVarintInt(max: 65535)
            let start = try c.readZigzag()
            let duration = try c.readVarint()
            let dest = try readAddress(&c)
            let runFlags = try c.readByte()
            guard runFlags & ~(runReached | runInterrupted | runReport) == 0 else { throw c.corruption("unknown run flags \(runFlags)") }
            let probeCount = try c.readVarintInt(max: 1 << 16)
            var probes = [ProbeReply]()
            probes.reserveCapacity(probeCount)
            for _ in 0..<probeCount {
                let ttl = try c.readByte()
                let flags = try c.readByte()
                if flags & hasReply == 0 {
                    probes.append(.lost(ttl: ttl))
                    continue
                }
                let addr = try readRawAddress(&c, v6: flags & isIPv6 != 0)
                let rtt = try c.readVarintInt(max: Int(UInt32.max))
                let replyTTL = try c.readByte()
                let type = try c.readByte()
                let code = try c.readByte()
                var labels = [MPLSLabel]()
                if flags & hasMPLS != 0 {
                    let n = try c.readVarintInt(max: 64)
                    for _ in 0..<n { labels.append(MPLSLabel(rawValue: try c.readLE32())) }
                }
                probes.append(ProbeReply(ttl: ttl, address: addr, rttMicros: UInt32(rtt), replyTTL: replyTTL,
                                         icmpType: type, icmpCode: code, mplsLabels: labels))
            }
            var run = TraceRun(target: target, vantage: vantage, method: method, flowID: UInt16(flow),
                               startMicros: start, endMicros: start &+ Int64(bitPattern: duration),
                               destination: dest, reached: runFlags & runReached != 0, probes: probes)
            run.interrupted = runFlags & runInterrupted != 0
            if runFlags & runReport != 0 {
                let n = try c.readVarintInt(max: 255)
                var figures = [HopFigures]()
                for _ in 0..<n {
                    let ttl = try c.readByte()
                    var v = [UInt32]()
                    for _ in 0..<5 { v.append(UInt32(try c.readVarintInt(max: Int(UInt32.max)))) }
                    figures.append(HopFigures(ttl: ttl, lastMicros: v[0], averageMicros: v[1], bestMicros: v[2], worstMicros: v[3], stdDevMicros: v[4]))
                }
                run.figures = figures
            }
            runs.append(run)
        }
        return runs
    }

    @inline(__always) private static func writeRawAddress(_ a: IPAddress, into out: inout UnsafeByteWriter) {
        if let v4 = a.v4Value {
            out.le32(v4)
        } else {
            out.le64(a.high)
            out.le64(a.low)
        }
    }

    private static func readAddress(_ c: inout ByteCursor) throws(StorageError) -> IPAddress {
        switch try c.readByte() {
        case 4: return try readRawAddress(&c, v6: false)
        case 16: return try readRawAddress(&c, v6: true)
        case let n: throw c.corruption("address of length \(n)")
        }
    }

    private static func readRawAddress(_ c: inout ByteCursor, v6: Bool) throws(StorageError) -> IPAddress {
        if v6 {
            let h = try c.readLE64()
            let l = try c.readLE64()
            return IPAddress(high: h, low: l)
        }
        return IPAddress(v4: try c.readLE32())
    }
}

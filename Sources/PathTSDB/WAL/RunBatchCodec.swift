/// The self-contained binary form of a batch of `TraceRun`s in a WAL record: names and raw
/// addresses, no dictionary ids, so that replay does not depend on the catalog's state.
enum RunBatchCodec {
    private static let hasReply: UInt8 = 1
    private static let isIPv6: UInt8 = 2
    private static let hasMPLS: UInt8 = 4

    static func encode(_ runs: [TraceRun], into out: inout [UInt8]) {
        out.appendVarint(runs.count)
        for r in runs {
            out.appendString(r.target)
            out.appendString(r.vantage)
            out.append(r.method.rawValue)
            out.appendVarint(UInt64(r.flowID))
            out.appendZigzag(r.startMicros)
            out.appendVarint(UInt64(r.endMicros - r.startMicros))
            appendAddress(r.destination, into: &out)
            out.append(r.reached ? 1 : 0)
            out.appendVarint(r.probes.count)
            for p in r.probes {
                out.append(p.ttl)
                guard let a = p.address else {
                    out.append(0)
                    continue
                }
                var flags = hasReply
                if !a.isIPv4 { flags |= isIPv6 }
                if !p.mplsLabels.isEmpty { flags |= hasMPLS }
                out.append(flags)
                appendRawAddress(a, into: &out)
                out.appendVarint(p.rttMicros)
                out.append(p.replyTTL)
                out.append(p.icmpType)
                out.append(p.icmpCode)
                if !p.mplsLabels.isEmpty {
                    out.appendVarint(p.mplsLabels.count)
                    for l in p.mplsLabels { out.appendLE(l.rawValue) }
                }
            }
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
            let reached = try c.readByte() != 0
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
            runs.append(TraceRun(target: target, vantage: vantage, method: method, flowID: UInt16(flow),
                                 startMicros: start, endMicros: start + Int64(bitPattern: duration),
                                 destination: dest, reached: reached, probes: probes))
        }
        return runs
    }

    private static func appendAddress(_ a: IPAddress, into out: inout [UInt8]) {
        out.append(a.isIPv4 ? 4 : 16)
        appendRawAddress(a, into: &out)
    }

    private static func appendRawAddress(_ a: IPAddress, into out: inout [UInt8]) {
        if let v4 = a.v4Value {
            out.appendLE(v4)
        } else {
            out.appendLE(a.high)
            out.appendLE(a.low)
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

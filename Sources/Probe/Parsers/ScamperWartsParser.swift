import PathTSDB

/// Reads scamper's binary output, warts (`scamper -O warts`; CAIDA's Ark data), as described in
/// warts(5): a sequence of objects, each `magic 0x1205 │ type u16 │ length u32` and its body, all
/// integers in network byte order. Trace objects (type 6) become `ScamperTrace`s exactly as
/// `sc_warts2json`'s output would through `ScamperJSONParser`; list and cycle objects are
/// framing; objects of other measurements (ping, MDA traceroute, …) are counted in
/// `Result.otherObjects`, never read as traces.
///
/// A trace's fields and each hop's are announced by a flags bitmap (7 bits per byte, the high
/// bit meaning another byte follows) and a parameter length, so fields this reader does not
/// know (later scamper versions add them at the end) are stepped over. Addresses are written
/// once per object and then referred to by their index in it. Files of the 2000s that keep
/// addresses in objects of their own (type 5) are refused with an error saying so.
public struct ScamperWartsParser: Sendable {
    /// The name errors give the input.
    public let source: String

    /// A parser whose errors name the input `source`.
    public init(source: String = "warts") {
        self.source = source
    }

    /// What a warts file holds: its traces, and a count of what was not read.
    public struct Result: Sendable {
        /// The traces, in file order.
        public var traces: [ScamperTrace]
        /// Objects that are neither traces nor list/cycle framing, by warts type.
        public var otherObjects: [UInt16: Int]
        /// Traces with trailing sections (path MTU discovery, last-ditch probes, doubletree)
        /// that are not read.
        public var tracesWithUnreadSections: Int
    }

    static let magic: UInt16 = 0x1205

    /// scamper's stop reasons, by their warts code, as its JSON names them.
    static let stopReasons = ["NONE", "COMPLETED", "UNREACH", "ICMP", "LOOP", "GAPLIMIT", "ERROR", "HOPLIMIT", "GSS", "HALTED"]
    /// Trace types: 1 icmp-echo, 2 udp, 3 tcp, 4 icmp-echo-paris, 5 udp-paris, 6 tcp-ack.
    static let methods: [UInt8: TraceMethod] = [1: .icmp, 2: .udp, 3: .tcp, 4: .icmpParis, 5: .udpParis, 6: .tcp]
    /// Trace flag: the ICMP checksum of a Paris ICMP trace is kept in the destination port field.
    static let icmpChecksumInDestinationPort: UInt8 = 0x20

    /// The traces of a warts file, or an error naming the byte offset and what was wrong there.
    public func parse(_ bytes: [UInt8]) throws(ProbeError) -> Result {
        var result = Result(traces: [], otherObjects: [:], tracesWithUnreadSections: 0)
        var c = WartsCursor(bytes: bytes, position: 0, end: bytes.count, source: source)
        while c.position < bytes.count {
            let at = c.position
            guard bytes.count - at >= 8 else { throw c.fail("object header cut short: \(bytes.count - at) of 8 bytes", at: at) }
            let magic = try c.u16()
            guard magic == ScamperWartsParser.magic else {
                throw c.fail("not a warts object: magic 0x\(String(magic, radix: 16)), 0x1205 expected", at: at)
            }
            let type = try c.u16()
            let length = Int(try c.u32())
            guard length <= bytes.count - c.position else {
                throw c.fail("object of \(length) bytes runs past the end of the file (\(bytes.count - c.position) left)", at: at)
            }
            var body = WartsCursor(bytes: bytes, position: c.position, end: c.position + length, source: source)
            c.position += length
            switch type {
            case 1, 2, 3, 4: continue  // list, cycle start, cycle definition, cycle stop
            case 5: throw c.fail("an address object (type 5): warts of scamper before 2010 is not read", at: at)
            case 6:
                let (trace, unread) = try self.trace(&body)
                result.traces.append(trace)
                if unread { result.tracesWithUnreadSections += 1 }
            default: result.otherObjects[type, default: 0] += 1
            }
        }
        return result
    }

    private func trace(_ c: inout WartsCursor) throws(ProbeError) -> (ScamperTrace, Bool) {
        let objectStart = c.position
        var addresses = [IPAddress]()
        var start: Int64 = 0, stopReason: UInt8 = 0, traceFlags: UInt8 = 0, attempts = 1, type: UInt8 = 0
        var sport = 0, dport = 0, firstHop = 1, hopCount = 0, probeCount = -1
        var src: IPAddress?, dst: IPAddress?
        try c.parameters { (c: inout WartsCursor, flag) throws(ProbeError) -> Bool in
            switch flag {
            case 1, 2, 28: _ = try c.u32()  // list id, cycle id, user id
            case 3, 4: throw c.fail("an address by id of an address object: warts of scamper before 2010 is not read", at: c.position)
            case 5: start = try c.timeval()
            case 6: stopReason = try c.u8()
            case 7: _ = try c.u8()  // stop data
            case 8: traceFlags = try c.u8()
            case 9: attempts = Int(try c.u8())
            case 10: _ = try c.u8()  // hop limit
            case 11: type = try c.u8()
            case 12: _ = try c.u16()  // probe size
            case 13: sport = Int(try c.u16())
            case 14: dport = Int(try c.u16())
            case 15: firstHop = Int(try c.u8())
            case 16, 17, 18: _ = try c.u8()  // TOS, wait, loops
            case 19: hopCount = Int(try c.u16())
            case 20, 21, 22: _ = try c.u8()  // gap limit, gap action, loop action
            case 23: probeCount = Int(try c.u16())
            case 24, 25: _ = try c.u8()  // wait between probes, confidence
            case 26: src = try c.address(&addresses)
            case 27: dst = try c.address(&addresses)
            default: return false
            }
            return true
        }
        guard let dst else { throw c.fail("trace without a destination address", at: objectStart) }
        guard let method = ScamperWartsParser.methods[type] else { throw c.fail("unknown trace type \(type)", at: objectStart) }
        let records = Int(try c.u16())
        var hops = [ScamperHop]()
        for _ in 0..<records { hops.append(try hop(&c, addresses: &addresses)) }
        // What follows the hops: sections of their own, each announced by a type, 0 ending them.
        var unread = false
        if c.position + 2 <= c.end { unread = try c.u16() != 0 }
        let probes: [ProbeReply]
        do {
            probes = try ScamperHop.probes(hops, attempts: attempts, probeCount: probeCount, hopCount: hopCount, firstHop: firstHop)
        } catch {
            throw c.fail(error.message, at: objectStart)
        }
        let icmpChecksum = traceFlags & ScamperWartsParser.icmpChecksumInDestinationPort != 0
        let flow = method == .icmp || method == .icmpParis ? (icmpChecksum ? dport : 0) : sport
        let reason = Int(stopReason) < ScamperWartsParser.stopReasons.count ? ScamperWartsParser.stopReasons[Int(stopReason)] : "\(stopReason)"
        return (ScamperTrace(output: TracerOutput(destination: dst, probes: probes), method: method, source: src,
                             flowID: UInt16(truncatingIfNeeded: flow), startMicros: start, stopReason: reason), unread)
    }

    private func hop(_ c: inout WartsCursor, addresses: inout [IPAddress]) throws(ProbeError) -> ScamperHop {
        let at = c.position
        var ttl = 0, replyTTL: UInt8 = 0, probeID = 0, rtt: Int64 = -1
        var icmp: UInt16?, tcp = false
        var labels = [MPLSLabel]()
        var address: IPAddress?
        try c.parameters { (c: inout WartsCursor, flag) throws(ProbeError) -> Bool in
            switch flag {
            case 1: throw c.fail("a hop address by id of an address object: warts of scamper before 2010 is not read", at: c.position)
            case 2: ttl = Int(try c.u8())
            case 3: replyTTL = try c.u8()
            case 4: _ = try c.u8()  // hop flags
            case 5: probeID = Int(try c.u8())
            case 6: rtt = Int64(try c.u32())
            case 7: icmp = try c.u16()
            case 8, 9, 10: _ = try c.u16()  // probe size, reply size, reply IP id
            case 11: _ = try c.u8()  // reply TOS
            case 12, 13: _ = try c.u16()  // next-hop MTU, quoted length
            case 14: _ = try c.u8()  // quoted TTL
            case 15:
                _ = try c.u8()  // TCP flags: the answer is TCP
                tcp = true
            case 16: _ = try c.u8()  // quoted TOS
            case 17: labels = try c.icmpExtensions()
            case 18: address = try c.address(&addresses)
            case 19: _ = try c.timeval()  // sent
            default: return false
            }
            return true
        }
        guard let address else { throw c.fail("hop without an address", at: at) }
        guard (1...255).contains(ttl) else { throw c.fail("hop with probe TTL \(ttl)", at: at) }
        guard rtt >= 0 else { throw c.fail("hop without an RTT", at: at) }
        if rtt > Int64(UInt32.max) - ScamperHop.earlyReplyMicros { rtt = 0 }  // stamped before its probe (ScamperHop)
        // warts numbers attempts from 0 (the field left out when 0); scamper's JSON from 1.
        guard probeID < 255 else { throw c.fail("hop with probe id \(probeID)", at: at) }
        probeID += 1
        let kind: (UInt8, UInt8) = tcp || icmp == nil ? ReplyKind.tcpAnswer : (UInt8(icmp.map { $0 >> 8 } ?? 0), UInt8(truncatingIfNeeded: icmp ?? 0))
        return ScamperHop(ttl: ttl, probeID: probeID, reply: ProbeReply(
            ttl: UInt8(ttl), address: address, rttMicros: UInt32(rtt), replyTTL: replyTTL, icmpType: kind.0, icmpCode: kind.1,
            mplsLabels: labels))
    }
}

/// A bounded reader of warts fields, big-endian, whose errors name the file and byte offset.
struct WartsCursor {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let source: String

    func fail(_ message: String, at offset: Int) -> ProbeError {
        ProbeError(.malformedInput, message, source: source, offset: Int64(offset))
    }

    mutating func u8() throws(ProbeError) -> UInt8 {
        guard position < end else { throw fail("field cut short at the end of its object", at: position) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16() throws(ProbeError) -> UInt16 {
        UInt16(try u8()) << 8 | UInt16(try u8())
    }

    mutating func u32() throws(ProbeError) -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    /// seconds u32 │ microseconds u32, as µs since the epoch.
    mutating func timeval() throws(ProbeError) -> Int64 {
        let at = position
        let seconds = Int64(try u32()), micros = Int64(try u32())
        guard micros < 1_000_000 else { throw fail("time with \(micros) microseconds", at: at) }
        return seconds * 1_000_000 + micros
    }

    /// `u8 length` then, if not 0, `u8 type │ address` (added to the object's table); if 0,
    /// `u32` index into that table.
    mutating func address(_ table: inout [IPAddress]) throws(ProbeError) -> IPAddress {
        let at = position
        let length = Int(try u8())
        if length == 0 {
            let id = Int(try u32())
            guard id < table.count else { throw fail("address reference \(id), \(table.count) addresses known", at: at) }
            return table[id]
        }
        let type = try u8()
        guard (type == 1 && length == 4) || (type == 2 && length == 16) else {
            throw fail("address of type \(type) and \(length) bytes (IPv4 is type 1 of 4 bytes, IPv6 type 2 of 16)", at: at)
        }
        guard end - position >= length else { throw fail("address cut short", at: at) }
        let raw = bytes[position..<(position + length)]
        position += length
        let a: IPAddress
        if length == 4 {
            a = IPAddress(v4: raw.reduce(0) { $0 << 8 | UInt32($1) })
        } else {
            let high = raw.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = raw.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            a = IPAddress(high: high, low: low)
        }
        table.append(a)
        return a
    }

    /// ICMP extensions (RFC 4884): `u16` total length, then objects of `u16` data length,
    /// `u8` class, `u8` type and data; MPLS label stacks (class 1, type 1, RFC 4950) are kept.
    mutating func icmpExtensions() throws(ProbeError) -> [MPLSLabel] {
        let at = position
        let total = Int(try u16())
        guard end - position >= total else { throw fail("ICMP extensions of \(total) bytes run past the object", at: at) }
        let stop = position + total
        var labels = [MPLSLabel]()
        while position < stop {
            let objectAt = position
            let length = Int(try u16())
            let classNumber = try u8(), classType = try u8()
            guard stop - position >= length else { throw fail("ICMP extension object of \(length) bytes runs past the extensions", at: objectAt) }
            if classNumber == 1 && classType == 1 {
                guard length % 4 == 0 else { throw fail("MPLS extension of \(length) bytes, not whole entries", at: objectAt) }
                for _ in 0..<(length / 4) { labels.append(MPLSLabel(rawValue: try u32())) }
            } else {
                position += length
            }
        }
        return labels
    }

    /// A flags bitmap and, if any flag is set, `u16` parameter length and the parameters, read
    /// by `field` in flag order (flag n is bit n−1 of the 7-bit groups). `field` returns false
    /// for a flag it does not know: it and every later one are stepped over by the length.
    mutating func parameters(_ field: (inout WartsCursor, Int) throws(ProbeError) -> Bool) throws(ProbeError) {
        let at = position
        var flags = [Int]()
        var group = 0
        while true {
            let b = try u8()
            for bit in 0..<7 where b & (1 << bit) != 0 { flags.append(group * 7 + bit + 1) }
            group += 1
            if b & 0x80 == 0 { break }
            guard group < 16 else { throw fail("flags bitmap longer than 16 bytes", at: at) }
        }
        guard !flags.isEmpty else { return }
        let length = Int(try u16())
        guard end - position >= length else { throw fail("parameters of \(length) bytes run past their object", at: at) }
        let stop = position + length
        var bounded = WartsCursor(bytes: bytes, position: position, end: stop, source: source)
        for flag in flags {
            guard try field(&bounded, flag) else { break }
        }
        position = stop
    }
}

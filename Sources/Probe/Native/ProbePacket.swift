import PathTSDB

/// Builds Paris probes: every probe of a trace has the same flow identifier in the header
/// fields per-flow load balancers hash on, and the probe is told apart by a field they do not:
///
/// - UDP: source port = flow id, fixed destination port; the UDP checksum carries the probe id
///   (two payload bytes set so that it comes out so), as Paris traceroute does.
/// - TCP SYN: source port = flow id, fixed destination port; the sequence number carries the
///   probe id.
/// - ICMP echo: identifier = flow id, and the checksum held constant (balancers hash on the
///   first four bytes, type, code and checksum); the sequence number carries the probe id and
///   two payload bytes make up for it.
///
/// IPv4 probes are whole packets for a raw IP_HDRINCL socket (the TTL in the header; the IP
/// identification is the probe id too); IPv6 probes are the transport part, the kernel adding
/// the IPv6 header with the hop limit given per packet.
struct ProbePacket {
    static let udpDestinationPort: UInt16 = 33435
    static let payloadLength = 12
    /// The payload's adjust word sits at this offset of the payload.
    static let adjustOffset = 0

    /// A UDP probe. `source` is the address the kernel will send from (it enters the checksum).
    static func udp(source: IPAddress, destination: IPAddress, ttl: UInt8, flow: UInt16, probeID: UInt16) -> [UInt8] {
        let udpLength = 8 + payloadLength
        var udp = [UInt8](repeating: 0, count: udpLength)
        put16(&udp, 0, flow)
        put16(&udp, 2, udpDestinationPort)
        put16(&udp, 4, UInt16(udpLength))
        for i in 10..<udpLength { udp[i] = UInt8(ascii: "S") }  // payload after the adjust word
        let pseudo = InternetChecksum.pseudoHeader(source: source, destination: destination, protocol: 17, length: udpLength)
        let s = InternetChecksum.sum(udp, initial: pseudo)
        put16(&udp, 8 + adjustOffset, InternetChecksum.adjustment(sum: s, target: probeID))
        put16(&udp, 6, probeID)
        return destination.isIPv4 ? ipv4(source: source, destination: destination, ttl: ttl, protocol: 17, id: probeID, payload: udp) : udp
    }

    /// An ICMP (or ICMPv6) echo request probe, its checksum held at `constantChecksum`.
    static func echo(source: IPAddress, destination: IPAddress, ttl: UInt8, flow: UInt16, probeID: UInt16) -> [UInt8] {
        let v4 = destination.isIPv4
        var icmp = [UInt8](repeating: 0, count: 8 + payloadLength)
        icmp[0] = v4 ? 8 : 128
        put16(&icmp, 4, flow)
        put16(&icmp, 6, probeID)
        for i in 10..<icmp.count { icmp[i] = UInt8(ascii: "S") }
        let pseudo = v4 ? 0 : InternetChecksum.pseudoHeader(source: source, destination: destination, protocol: 58, length: icmp.count)
        let s = InternetChecksum.sum(icmp, initial: pseudo)
        put16(&icmp, 8 + adjustOffset, InternetChecksum.adjustment(sum: s, target: constantChecksum(flow: flow)))
        put16(&icmp, 2, constantChecksum(flow: flow))
        return v4 ? ipv4(source: source, destination: destination, ttl: ttl, protocol: 1, id: probeID, payload: icmp) : icmp
    }

    /// A TCP SYN probe: source port = flow id, the probe id in the upper half of the sequence
    /// number (which balancers do not hash, and which an ICMP error quotes in its first 8 bytes
    /// and a SYN-ACK or RST acknowledges as sequence + 1).
    static func tcpSYN(source: IPAddress, destination: IPAddress, ttl: UInt8, flow: UInt16, port: UInt16, probeID: UInt16) -> [UInt8] {
        var tcp = [UInt8](repeating: 0, count: 20)
        put16(&tcp, 0, flow)
        put16(&tcp, 2, port)
        put16(&tcp, 4, probeID)        // sequence number, upper half
        tcp[12] = 5 << 4               // data offset: 20 bytes, no options
        tcp[13] = 0x02                 // SYN
        put16(&tcp, 14, 5840)          // window
        let pseudo = InternetChecksum.pseudoHeader(source: source, destination: destination, protocol: 6, length: tcp.count)
        put16(&tcp, 16, InternetChecksum.checksum(sum: InternetChecksum.sum(tcp, initial: pseudo)))
        return destination.isIPv4 ? ipv4(source: source, destination: destination, ttl: ttl, protocol: 6, id: probeID, payload: tcp) : tcp
    }

    /// The echo checksum a flow keeps: fixed per flow, never 0 or 0xFFFF.
    static func constantChecksum(flow: UInt16) -> UInt16 {
        let c = flow ^ 0x5A5A
        return c == 0 || c == 0xFFFF ? 0x1234 : c
    }

    /// An IPv4 header before `payload`. The kernel fills in the header checksum (it always does
    /// for IP_HDRINCL); DF is clear, so a probe is never refused for its size.
    static func ipv4(source: IPAddress, destination: IPAddress, ttl: UInt8, protocol proto: UInt8, id: UInt16, payload: [UInt8]) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 20)
        h.reserveCapacity(20 + payload.count)
        h[0] = 0x45
        put16(&h, 2, UInt16(20 + payload.count))
        put16(&h, 4, id)
        h[8] = ttl
        h[9] = proto
        let s = source.v4Value ?? 0, d = destination.v4Value ?? 0
        put16(&h, 12, UInt16(s >> 16))
        put16(&h, 14, UInt16(s & 0xFFFF))
        put16(&h, 16, UInt16(d >> 16))
        put16(&h, 18, UInt16(d & 0xFFFF))
        h.append(contentsOf: payload)
        return h
    }

    static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
        b[at] = UInt8(v >> 8)
        b[at + 1] = UInt8(v & 0xFF)
    }
}

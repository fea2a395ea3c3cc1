package import PathTSDB

/// One ICMP message that answers (or may answer) a probe, decoded.
package struct DecodedReply: Equatable {
    enum Quoted: Equatable {
        /// A UDP probe: its source port (the flow) and checksum (the probe id).
        case udp(flow: UInt16, probeID: UInt16)
        /// An echo probe: its identifier (the flow) and sequence number (the probe id).
        case echo(flow: UInt16, probeID: UInt16)
        /// A TCP probe: its source port (the flow) and the upper half of its sequence number.
        case tcp(flow: UInt16, probeID: UInt16)
    }

    var from: IPAddress
    var icmpType: UInt8
    var icmpCode: UInt8
    var replyTTL: UInt8
    /// Which probe it answers; nil for ICMP that answers none of ours.
    var probe: Quoted?
    /// The probe's destination as quoted (the responder itself for an echo reply).
    var probeDestination: IPAddress?
    var mpls: [MPLSLabel]
}

/// Reads the ICMP and ICMPv6 messages a raw socket receives: echo replies, time exceeded and
/// destination unreachable with the probe they quote (RFC 792, RFC 4443), and the MPLS label
/// stacks routers attach as ICMP extensions (RFC 4884, RFC 4950).
///
/// A raw ICMP socket sees every ICMP message for the host, so a message that answers no probe
/// of this kind decodes with `probe == nil`; a message cut short where a probe's quote should be
/// is an error naming the offset.
package enum ProbeReplyDecoder {
    /// Decodes an IPv4 datagram (IP header first) from a raw IPPROTO_ICMP socket.
    package static func decodeV4(_ bytes: [UInt8]) throws(ProbeError) -> DecodedReply? { try decodeV4(bytes[...]) }

    /// `decodeV4` over the first bytes of a receive buffer, without copying them.
    static func decodeV4(_ slice: ArraySlice<UInt8>) throws(ProbeError) -> DecodedReply? {
        let b = slice.startIndex == 0 ? slice : ArraySlice(Array(slice))
        guard b.count >= 20, b[0] >> 4 == 4 else { throw fail("IPv4 header missing", at: 0) }
        let ihl = Int(b[0] & 0x0F) * 4
        guard ihl >= 20, b.count >= ihl + 8 else { throw fail("ICMP header cut short", at: min(b.count, ihl)) }
        guard b[9] == 1 else { return nil }
        let from = IPAddress(v4: be32(b, 12))
        let type = b[ihl], code = b[ihl + 1]
        var reply = DecodedReply(from: from, icmpType: type, icmpCode: code, replyTTL: b[8], probe: nil, probeDestination: nil, mpls: [])
        switch type {
        case 0:
            reply.probe = .echo(flow: be16(b, ihl + 4), probeID: be16(b, ihl + 6))
            reply.probeDestination = from
        case 3, 11:
            let q = ihl + 8
            guard b.count >= q + 20, b[q] >> 4 == 4 else { throw fail("quoted IPv4 header cut short", at: q) }
            let qihl = Int(b[q] & 0x0F) * 4
            guard qihl >= 20, b.count >= q + qihl + 8 else { throw fail("quoted transport header cut short", at: q + qihl) }
            reply.probeDestination = IPAddress(v4: be32(b, q + 16))
            let l4 = q + qihl
            switch b[q + 9] {
            case 17: reply.probe = .udp(flow: be16(b, l4), probeID: be16(b, l4 + 6))
            case 1 where b[l4] == 8: reply.probe = .echo(flow: be16(b, l4 + 4), probeID: be16(b, l4 + 6))
            case 6: reply.probe = .tcp(flow: be16(b, l4), probeID: be16(b, l4 + 4))
            default: break
            }
            // RFC 4884: the length of the quoted datagram in 32-bit words, extensions after it.
            let words = Int(b[ihl + 5])
            if words > 0 { reply.mpls = mplsLabels(b, from: q + words * 4) }
        default:
            return nil
        }
        return reply
    }

    /// Decodes an ICMPv6 message (no IPv6 header: the kernel strips it) from a raw ICMPv6 socket.
    package static func decodeV6(_ bytes: [UInt8], from: IPAddress, hopLimit: UInt8) throws(ProbeError) -> DecodedReply? {
        try decodeV6(bytes[...], from: from, hopLimit: hopLimit)
    }

    /// `decodeV6` over the first bytes of a receive buffer, without copying them.
    static func decodeV6(_ slice: ArraySlice<UInt8>, from: IPAddress, hopLimit: UInt8) throws(ProbeError) -> DecodedReply? {
        let b = slice.startIndex == 0 ? slice : ArraySlice(Array(slice))
        guard b.count >= 8 else { throw fail("ICMPv6 header cut short", at: 0) }
        let type = b[0], code = b[1]
        var reply = DecodedReply(from: from, icmpType: type, icmpCode: code, replyTTL: hopLimit, probe: nil, probeDestination: nil, mpls: [])
        switch type {
        case 129:
            reply.probe = .echo(flow: be16(b, 4), probeID: be16(b, 6))
            reply.probeDestination = from
        case 1, 3:
            let q = 8
            guard b.count >= q + 40 + 8, b[q] >> 4 == 6 else { throw fail("quoted IPv6 header cut short", at: q) }
            reply.probeDestination = IPAddress(bytes: b[(q + 24)..<(q + 40)])
            let l4 = q + 40
            switch b[q + 6] {
            case 17: reply.probe = .udp(flow: be16(b, l4), probeID: be16(b, l4 + 6))
            case 58 where b[l4] == 128: reply.probe = .echo(flow: be16(b, l4 + 4), probeID: be16(b, l4 + 6))
            case 6: reply.probe = .tcp(flow: be16(b, l4), probeID: be16(b, l4 + 4))
            default: break
            }
            // RFC 4884 for ICMPv6: the length in 64-bit words, at byte 4.
            let words = Int(b[4])
            if words > 0 { reply.mpls = mplsLabels(b, from: q + words * 8) }
        default:
            return nil
        }
        return reply
    }

    /// The MPLS label stack object (class 1, c-type 1) of an ICMP extension structure starting
    /// at `start`, if the structure is there and whole; anything else yields no labels.
    static func mplsLabels(_ b: ArraySlice<UInt8>, from start: Int) -> [MPLSLabel] {
        guard start + 4 <= b.count, b[start] >> 4 == 2 else { return [] }
        var i = start + 4
        var out = [MPLSLabel]()
        while i + 4 <= b.count {
            let length = Int(be16(b, i))
            guard length >= 4, i + length <= b.count else { break }
            if b[i + 2] == 1 && b[i + 3] == 1 {
                var j = i + 4
                while j + 4 <= i + length {
                    out.append(MPLSLabel(rawValue: be32(b, j)))
                    j += 4
                }
            }
            i += length
        }
        return out
    }

    /// A TCP segment from the destination (SYN-ACK or RST) that acknowledges a SYN probe:
    /// `segment` is the TCP header, from a raw TCP socket (after the IPv4 header, which
    /// `decodeTCPv4` strips; IPv6 sockets give the segment alone).
    static func decodeTCP(_ segment: ArraySlice<UInt8>, from: IPAddress, ttl: UInt8) throws(ProbeError) -> DecodedReply? {
        let s = Array(segment)
        guard s.count >= 20 else { throw fail("TCP header cut short", at: segment.startIndex) }
        let flags = s[13]
        // Only answers to a SYN: SYN-ACK, or RST with ACK.
        guard flags & 0x10 != 0, flags & 0x12 == 0x12 || flags & 0x04 != 0 else { return nil }
        let ack = be32(s, 8) &- 1
        return DecodedReply(from: from, icmpType: 255, icmpCode: 0, replyTTL: ttl,
                            probe: .tcp(flow: be16(s, 2), probeID: UInt16(ack >> 16)), probeDestination: from, mpls: [])
    }

    /// `decodeTCP` for an IPv4 datagram from a raw IPPROTO_TCP socket.
    package static func decodeTCPv4(_ bytes: [UInt8]) throws(ProbeError) -> DecodedReply? { try decodeTCPv4(bytes[...]) }

    /// `decodeTCPv4` over the first bytes of a receive buffer, without copying them.
    static func decodeTCPv4(_ slice: ArraySlice<UInt8>) throws(ProbeError) -> DecodedReply? {
        let b = slice.startIndex == 0 ? slice : ArraySlice(Array(slice))
        guard b.count >= 20, b[0] >> 4 == 4 else { throw fail("IPv4 header missing", at: 0) }
        let ihl = Int(b[0] & 0x0F) * 4
        guard b[9] == 6, b.count >= ihl else { return nil }
        return try decodeTCP(b[ihl...], from: IPAddress(v4: be32(b, 12)), ttl: b[8])
    }

    static func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func be16(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func be32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func fail(_ m: String, at offset: Int) -> ProbeError {
        ProbeError(.malformedInput, m, source: "ICMP reply", offset: Int64(offset))
    }
}

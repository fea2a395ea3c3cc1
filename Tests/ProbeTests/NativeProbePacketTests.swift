import Testing
import PathTSDB
@testable import Probe

/// Paris probes and the ICMP that answers them, byte by byte.
@Suite struct NativeProbePacketTests {
    let src4 = IPAddress("192.0.2.10")!, dst4 = IPAddress("198.51.100.7")!
    let src6 = IPAddress("2001:db8::10")!, dst6 = IPAddress("2001:db8:1::7")!

    /// The checksum of a UDP datagram with its pseudo-header, recomputed from scratch.
    func udpChecksumHolds(_ udp: ArraySlice<UInt8>, source: IPAddress, destination: IPAddress) -> Bool {
        let pseudo = destination.isIPv4
            ? InternetChecksum.pseudoHeaderV4(source: Array(source.bytes.suffix(4)), destination: Array(destination.bytes.suffix(4)), protocol: 17, length: udp.count)
            : InternetChecksum.pseudoHeaderV6(source: source.bytes, destination: destination.bytes, nextHeader: 17, length: udp.count)
        return InternetChecksum.sum(udp, initial: pseudo) == 0xFFFF
    }

    @Test(arguments: [UInt16(1), 2, 0x7FFF, 0x8000, 0xFFFE])
    func udpProbesCarryTheirIDInAValidChecksumAndKeepTheFlow(id: UInt16) {
        let v4 = ProbePacket.udp(source: src4, destination: dst4, ttl: 7, flow: 40_001, probeID: id)
        #expect(v4.count == 20 + 8 + ProbePacket.payloadLength)
        #expect(v4[8] == 7 && v4[9] == 17)                                   // TTL, protocol
        #expect(ProbeReplyDecoder.be16(v4, 4) == id)                          // IP id
        #expect(ProbeReplyDecoder.be16(v4, 20) == 40_001)                     // source port: the flow
        #expect(ProbeReplyDecoder.be16(v4, 22) == ProbePacket.udpDestinationPort)
        #expect(ProbeReplyDecoder.be16(v4, 26) == id)                         // checksum: the probe
        #expect(udpChecksumHolds(v4[20...], source: src4, destination: dst4))
        let v6 = ProbePacket.udp(source: src6, destination: dst6, ttl: 7, flow: 40_001, probeID: id)
        #expect(ProbeReplyDecoder.be16(v6, 6) == id)
        #expect(udpChecksumHolds(v6[...], source: src6, destination: dst6))
        // What a per-flow balancer hashes (addresses, protocol, ports) is the same for every probe.
        let other = ProbePacket.udp(source: src4, destination: dst4, ttl: 9, flow: 40_001, probeID: id &+ 1)
        #expect(Array(other[12..<24]) == Array(v4[12..<24]))
    }

    @Test func echoProbesKeepTheirChecksumAndCarryTheIDInTheSequence() {
        let a = ProbePacket.echo(source: src4, destination: dst4, ttl: 3, flow: 555, probeID: 10)
        let b = ProbePacket.echo(source: src4, destination: dst4, ttl: 4, flow: 555, probeID: 11)
        #expect(a[9] == 1 && a[20] == 8)
        #expect(Array(a[20..<26]) == Array(b[20..<26]), "type, code, checksum and identifier stay put")
        #expect(ProbeReplyDecoder.be16(a, 26) == 10 && ProbeReplyDecoder.be16(b, 26) == 11)
        #expect(InternetChecksum.sum(a[20...]) == 0xFFFF && InternetChecksum.sum(b[20...]) == 0xFFFF)
        let v6 = ProbePacket.echo(source: src6, destination: dst6, ttl: 3, flow: 555, probeID: 12)
        let pseudo = InternetChecksum.pseudoHeaderV6(source: src6.bytes, destination: dst6.bytes, nextHeader: 58, length: v6.count)
        #expect(v6[0] == 128 && InternetChecksum.sum(v6, initial: pseudo) == 0xFFFF)
        #expect(ProbeReplyDecoder.be16(v6, 2) == ProbePacket.constantChecksum(flow: 555))
    }

    /// An ICMP time exceeded from `router` quoting `probe`, with RFC 4884/4950 MPLS labels.
    func timeExceeded(quoting probe: [UInt8], from router: IPAddress, labels: [MPLSLabel]) -> [UInt8] {
        var quoted = Array(probe.prefix(28))
        quoted += [UInt8](repeating: 0, count: 128 - quoted.count)            // RFC 4884: padded to 128
        var ext = [UInt8]([0x20, 0, 0, 0])                                     // version 2, checksum (unchecked)
        ext += [0, UInt8(4 + 4 * labels.count), 1, 1]                          // object: MPLS label stack
        for l in labels { ext += [UInt8(l.rawValue >> 24), UInt8((l.rawValue >> 16) & 0xFF), UInt8((l.rawValue >> 8) & 0xFF), UInt8(l.rawValue & 0xFF)] }
        let icmp: [UInt8] = [11, 0, 0, 0, 0, 32, 0, 0] + quoted + ext         // length: 32 words
        var ip = ProbePacket.ipv4(source: router, destination: src4, ttl: 61, protocol: 1, id: 0, payload: icmp)
        ip[8] = 61
        return ip
    }

    @Test func timeExceededMatchesTheProbeItQuotesWithItsLabels() throws {
        let probe = ProbePacket.udp(source: src4, destination: dst4, ttl: 5, flow: 40_001, probeID: 777)
        let label = MPLSLabel(label: 24_001, trafficClass: 0, bottomOfStack: true, ttl: 1)
        let router = IPAddress("203.0.113.1")!
        let r = try #require(try ProbeReplyDecoder.decodeV4(timeExceeded(quoting: probe, from: router, labels: [label])))
        #expect(r.from == router && r.icmpType == 11 && r.replyTTL == 61)
        #expect(r.probe == .udp(flow: 40_001, probeID: 777))
        #expect(r.probeDestination == dst4)
        #expect(r.mpls == [label])
    }

    @Test func otherICMPIsNotAnAnswerAndCutMessagesAreErrors() throws {
        // An echo request someone else sent to this host: ICMP, but no answer to a probe.
        let ping = ProbePacket.ipv4(source: dst4, destination: src4, ttl: 64, protocol: 1, id: 1, payload: [8, 0, 0, 0, 0, 1, 0, 1])
        #expect(try ProbeReplyDecoder.decodeV4(ping) == nil)
        let probe = ProbePacket.udp(source: src4, destination: dst4, ttl: 5, flow: 40_001, probeID: 9)
        let whole = timeExceeded(quoting: probe, from: IPAddress("203.0.113.1")!, labels: [])
        for cut in [10, 24, 35, 50] {
            #expect(throws: ProbeError.self, "cut at \(cut)") { _ = try ProbeReplyDecoder.decodeV4(Array(whole.prefix(cut))) }
        }
        do {
            _ = try ProbeReplyDecoder.decodeV4(Array(whole.prefix(35)))
        } catch {
            #expect(error.description == "ICMP reply (byte 28): quoted IPv4 header cut short")
        }
        // IPv6: a destination unreachable (port) quoting a UDP probe.
        let p6 = ProbePacket.udp(source: src6, destination: dst6, ttl: 9, flow: 40_002, probeID: 31)
        var ip6 = [UInt8](repeating: 0, count: 40)
        ip6[0] = 0x60
        ip6[6] = 17
        ip6.replaceSubrange(8..<24, with: src6.bytes)
        ip6.replaceSubrange(24..<40, with: dst6.bytes)
        let unreachable: [UInt8] = [1, 4, 0, 0, 0, 0, 0, 0] + ip6 + p6
        let r6 = try #require(try ProbeReplyDecoder.decodeV6(unreachable, from: dst6, hopLimit: 60))
        #expect(r6.probe == .udp(flow: 40_002, probeID: 31) && r6.probeDestination == dst6 && r6.replyTTL == 60)
        #expect(throws: ProbeError.self) { _ = try ProbeReplyDecoder.decodeV6(Array(unreachable.prefix(30)), from: dst6, hopLimit: 60) }
    }

    @Test func tcpProbesCarryTheIDInTheSequenceAndAnswersAcknowledgeIt() throws {
        let syn = ProbePacket.tcpSYN(source: src4, destination: dst4, ttl: 4, flow: 40_003, port: 443, probeID: 515)
        #expect(syn[9] == 6 && syn[33] == 0x02)                                // TCP, SYN
        #expect(ProbeReplyDecoder.be16(syn, 20) == 40_003 && ProbeReplyDecoder.be16(syn, 22) == 443)
        #expect(ProbeReplyDecoder.be16(syn, 24) == 515)
        let pseudo = InternetChecksum.pseudoHeaderV4(source: Array(src4.bytes.suffix(4)), destination: Array(dst4.bytes.suffix(4)), protocol: 6, length: 20)
        #expect(InternetChecksum.sum(syn[20...], initial: pseudo) == 0xFFFF)
        // The destination's RST+ACK acknowledges sequence + 1.
        var rst = [UInt8](repeating: 0, count: 20)
        ProbePacket.put16(&rst, 0, 443)
        ProbePacket.put16(&rst, 2, 40_003)
        let ack = UInt32(515) << 16 + 1
        rst.replaceSubrange(8..<12, with: [UInt8(ack >> 24), UInt8((ack >> 16) & 0xFF), UInt8((ack >> 8) & 0xFF), UInt8(ack & 0xFF)])
        rst[12] = 5 << 4
        rst[13] = 0x14                                                         // RST, ACK
        let ip = ProbePacket.ipv4(source: dst4, destination: src4, ttl: 60, protocol: 6, id: 0, payload: rst)
        let r = try #require(try ProbeReplyDecoder.decodeTCPv4(ip))
        #expect(r.probe == .tcp(flow: 40_003, probeID: 515) && r.from == dst4 && r.icmpType == 255 && r.replyTTL == 60)
        rst[13] = 0x10                                                         // a bare ACK answers nothing
        #expect(try ProbeReplyDecoder.decodeTCPv4(ProbePacket.ipv4(source: dst4, destination: src4, ttl: 60, protocol: 6, id: 0, payload: rst)) == nil)
        #expect(throws: ProbeError.self) { _ = try ProbeReplyDecoder.decodeTCPv4(Array(ip.prefix(30))) }
    }

    @Test func mdaStoppingPointsAreThePapers() {
        #expect((1...5).map { MDAStopping.probes(toRuleOutMoreThan: $0, confidence: 0.95) } == [6, 11, 16, 21, 27])
        #expect(MDAStopping.probes(toRuleOutMoreThan: 1, confidence: 0.99) == 8)
    }

    @Test func theFlowIsPinnedPerDestination() {
        #expect(NativeProber.pinnedFlow(for: dst4) == NativeProber.pinnedFlow(for: IPAddress("198.51.100.7")!))
        #expect(NativeProber.pinnedFlow(for: dst4) != NativeProber.pinnedFlow(for: dst6))
        #expect((33_000..<63_000).contains(NativeProber.pinnedFlow(for: dst6)))
    }
}

extension NativeProbePacketTests {
    @Test func thePseudoHeaderSumNeedsNoBytes() {
        #expect(InternetChecksum.pseudoHeader(source: src4, destination: dst4, protocol: 17, length: 20)
                == InternetChecksum.pseudoHeaderV4(source: Array(src4.bytes.suffix(4)), destination: Array(dst4.bytes.suffix(4)), protocol: 17, length: 20))
        #expect(InternetChecksum.pseudoHeader(source: src6, destination: dst6, protocol: 58, length: 70_000)
                == InternetChecksum.pseudoHeaderV6(source: src6.bytes, destination: dst6.bytes, nextHeader: 58, length: 70_000))
    }
}

/// The pseudo-headers built byte by byte, as the RFCs draw them: the reference the packet
/// builder's word arithmetic is checked against.
extension InternetChecksum {
    /// IPv4 (RFC 768): addresses, zero, protocol, length.
    static func pseudoHeaderV4(source: [UInt8], destination: [UInt8], protocol proto: UInt8, length: Int) -> UInt32 {
        UInt32(sum(source + destination + [0, proto, UInt8(length >> 8), UInt8(length & 0xFF)]))
    }

    /// IPv6 (RFC 8200 §8.1): addresses, 32-bit length, three zero bytes, next header.
    static func pseudoHeaderV6(source: [UInt8], destination: [UInt8], nextHeader: UInt8, length: Int) -> UInt32 {
        let len = UInt32(length)
        return UInt32(sum(source + destination + [UInt8(len >> 24), UInt8((len >> 16) & 0xFF), UInt8((len >> 8) & 0xFF), UInt8(len & 0xFF), 0, 0, 0, nextHeader]))
    }
}

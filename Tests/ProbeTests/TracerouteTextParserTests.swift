import Foundation
import Testing
import PathTSDB
@testable import Probe

func fixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
}

let r1 = IPAddress("10.99.1.2"), r2 = IPAddress("10.99.2.2"), r2b = IPAddress("10.99.4.2"), dst = IPAddress("10.99.3.2")

@Suite struct TracerouteTextParserTests {
    func parse(_ name: String, _ method: TraceMethod = .udp) throws -> TracerOutput {
        try TracerouteTextParser(method: method, source: name).parse(try fixture(name))
    }

    @Test(arguments: [("tr-udp-n.txt", TraceMethod.udp), ("tr-udp-names.txt", .udp), ("tr-icmp-n.txt", .icmp), ("tr-tcp-n.txt", .tcp)])
    func cleanPathInEveryMode(_ name: String, _ method: TraceMethod) throws {
        let out = try parse(name, method)
        #expect(out.destination == dst)
        #expect(out.probes.map(\.ttl) == [1, 1, 1, 2, 2, 2, 3, 3, 3])
        #expect(out.probes.map(\.address) == [r1, r1, r1, r2, r2, r2, dst, dst, dst])
        #expect(out.reached)
        #expect(out.probes.allSatisfy { $0.rttMicros < 10_000 })
        #expect(out.probes[0].icmpType == 11)
        let expected = ReplyKind.destination(method, v6: false)
        #expect(out.probes[8].icmpType == expected.0 && out.probes[8].icmpCode == expected.1)
        if name.contains("names") { #expect(out.names[try #require(dst)] == "dst.lab.test") }
    }

    /// Recorded with traceroute killed by SIGINT (`timeout -s INT`), as ^C does: its last line
    /// is cut where it died. What it printed is kept, marked interrupted.
    @Test(arguments: [("tr-interrupted-n.txt", [1, 1, 1, 2]), ("tr-interrupted-q1-n.txt", [1, 2, 3, 4]),
                      ("tr-interrupted-parallel-n.txt", [1, 1, 1])])
    func interruptedTraceIsKeptAndMarked(_ name: String, _ ttls: [UInt8]) throws {
        let out = try parse(name)
        #expect(out.interrupted && !out.reached)
        #expect(out.probes.map(\.ttl) == ttls)
        #expect(out.probes.first?.address == r1)
        let run = try #require(out.run(target: "t", vantage: "v", method: .udp, flowID: 0, startMicros: 1, endMicros: 1))
        #expect(run.interrupted)
    }

    /// A terminal's `^C` marks it too, wherever it stands; every complete recorded output, to
    /// the destination or to the hop limit, is not interrupted.
    @Test func caretCMarksAnInterruptionAndCompleteOutputsAreNot() throws {
        let typed = try fixture("tr-udp-n.txt").split(separator: "\n").prefix(3).joined(separator: "\n") + "\n 3  *^C\n"
        let out = try TracerouteTextParser(method: .udp, source: "typed").parse(typed)
        #expect(out.interrupted && out.probes.map(\.ttl) == [1, 1, 1, 2, 2, 2, 3])
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let complete = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { ($0.hasPrefix("tr-") || $0.hasPrefix("tr6-") || $0.hasPrefix("tcptr")) && !$0.contains("interrupted") }
        #expect(complete.count >= 15)
        for name in complete {
            let method: TraceMethod = name.contains("icmp") ? .icmp : name.contains("tcp") ? .tcp : .udp
            let parsed = try TracerouteTextParser(method: method, destination: dst, source: name).parse(try fixture(name))
            #expect(!parsed.interrupted, "\(name)")
        }
        // A trace short of the destination and of its 30 hops, with a full last line, was cut too.
        let short = "traceroute to 10.99.3.2 (10.99.3.2), 30 hops max, 60 byte packets\n 1  10.99.1.2  0.1 ms  0.1 ms  0.1 ms\n"
        #expect(try TracerouteTextParser(method: .udp, source: "s").parse(short).interrupted)
    }

    /// Recorded with `traceroute -A` asking a whois responder in the lab (`RA_SERVER`): r1 and
    /// the destination have a route object, r2 has none (`[*]`), the second ECMP branch its own.
    @Test(arguments: ["tr-asn-n.txt", "tr-asn-names.txt", "tr6-asn-n.txt", "tr-asn-ecmp-n.txt"])
    func asAnnotationsAreKeptPerAddress(_ name: String) throws {
        let out = try parse(name)
        let v6 = name.hasPrefix("tr6")
        let hop1 = try #require(IPAddress(v6 ? "fd99:1::2" : "10.99.1.2")), hop2 = try #require(IPAddress(v6 ? "fd99:2::2" : "10.99.2.2"))
        let last = try #require(IPAddress(v6 ? "fd99:3::2" : "10.99.3.2"))
        #expect(out.destination == last && out.reached)
        #expect(out.probes.compactMap(\.address).allSatisfy { [hop1, hop2, last, r2b].contains($0) })
        var expected: [IPAddress: UInt32] = [hop1: 64500, last: 64501]
        if name.contains("ecmp") {
            // " 2  10.99.2.2 [*]  0.014 ms  0.008 ms  0.008 ms 10.99.4.2 [AS64502]  2.576 ms"
            expected[try #require(r2b)] = 64502
            #expect(out.probes.filter { $0.ttl == 2 }.map(\.address) == [hop2, hop2, hop2, r2b])
        }
        #expect(out.asNumbers == expected)
        #expect(out.probes.allSatisfy { $0.address != nil && $0.rttMicros < 10_000 })
    }

    @Test func microsecondsAreKeptFromTheMillisecondText() throws {
        let out = try parse("tr-udp-n.txt")
        // " 1  10.99.1.2  1.226 ms  0.960 ms  0.916 ms"
        #expect(out.probes.prefix(3).map(\.rttMicros) == [1226, 960, 916])
    }

    @Test func ipv6Path() throws {
        let out = try parse("tr-udp6-n.txt")
        #expect(out.destination == IPAddress("fd99:3::2") && out.reached)
        #expect(out.probes.map(\.address).compactMap { $0 }.map(\.description) == ["fd99:1::2", "fd99:1::2", "fd99:1::2", "fd99:2::2", "fd99:2::2", "fd99:2::2", "fd99:3::2", "fd99:3::2", "fd99:3::2"])
        #expect(out.probes[0].icmpType == 3 && out.probes[8].icmpType == 1 && out.probes[8].icmpCode == 4)
    }

    @Test func silentHopIsLostProbesNotAGap() throws {
        let out = try parse("tr-silent-n.txt")
        #expect(out.probes.filter { $0.ttl == 2 }.count == 3)
        #expect(out.probes.filter { $0.ttl == 2 }.allSatisfy { $0.isLoss })
        #expect(out.reached)
    }

    @Test(arguments: [("H", UInt8(1)), ("N", 0), ("P", 2), ("X", 13)])
    func annotationsBecomeUnreachableCodes(_ tag: String, _ code: UInt8) throws {
        let out = try parse("tr-annot-\(tag)-n.txt")
        let last = out.probes.filter { $0.ttl == 3 }
        #expect(last.count == 3 && last.allSatisfy { $0.address == r2 && $0.icmpType == 3 && $0.icmpCode == code })
        #expect(!out.reached)
    }

    @Test func ipv6AdministrativelyProhibited() throws {
        let out = try parse("tr6-annot-X-n.txt")
        #expect(out.probes.filter { $0.ttl == 3 }.allSatisfy { $0.icmpType == 1 && $0.icmpCode == 1 })
    }

    @Test func lossKeepsEveryProbeInPlace() throws {
        let out = try parse("tr-loss-n.txt")
        // " 3  * * * 10.99.3.2  0.014 ms *"
        let hop3 = out.probes.filter { $0.ttl == 3 }
        #expect(hop3.map(\.isLoss) == [true, true, true, false, true])
        #expect(hop3[3].address == dst && hop3[3].rttMicros == 14)
        let icmp = try parse("tr-icmp-loss-n.txt", .icmp)
        #expect(icmp.probes.filter { $0.ttl == 3 }.allSatisfy { $0.isLoss })
        #expect(icmp.probes.filter { $0.ttl == 4 }.map(\.isLoss) == [false, true, true, true, true])
    }

    @Test(arguments: ["tr-ecmp-n.txt", "tr-ecmp-names.txt"])
    func severalRespondersAtOneTTL(_ name: String) throws {
        let out = try parse(name)
        let hop2 = out.probes.filter { $0.ttl == 2 }
        #expect(hop2.count == 6)
        #expect(Set(hop2.compactMap(\.address)) == Set([r2, r2b].compactMap { $0 }))
    }

    @Test func tcptracerouteMarksTheTCPAnswer() throws {
        let out = try parse("tcptr-n.txt", .tcp)
        #expect(out.destination == dst && out.reached)
        #expect(out.probes.filter { $0.ttl == 3 }.allSatisfy { $0.icmpType == 255 })
        #expect(out.probes.filter { $0.ttl == 2 }.allSatisfy { $0.address == r2b })
    }

    @Test func mplsExtensionsAttachToTheirAddressesProbes() throws {
        let text = """
            traceroute to 192.0.2.9 (192.0.2.9), 30 hops max, 60 byte packets
             1  192.0.2.1 <MPLS:L=24001,E=0,S=0,T=1/L=16,E=3,S=1,T=1>  1.000 ms  2.000 ms 192.0.2.2  3.000 ms
            """
        let out = try TracerouteTextParser(method: .udp).parse(text)
        #expect(out.probes[0].mplsLabels == [MPLSLabel(label: 24001, trafficClass: 0, bottomOfStack: false, ttl: 1),
                                             MPLSLabel(label: 16, trafficClass: 3, bottomOfStack: true, ttl: 1)])
        #expect(out.probes[1].mplsLabels.count == 2 && out.probes[2].mplsLabels.isEmpty)
    }

    @Test(arguments: [
        (" 1  10.0.0.1  abc ms", 1, 15, "expected '*', an address, a time in ms or an annotation, found \"abc\""),
        ("traceroute to x (192.0.2.1), 30 hops max\n 1  0.5 ms", 2, 5, "a time before any address"),
        (" 1  10.0.0.1  1.0 ms !Q", 1, 22, "unknown annotation !Q (expected !H, !N, !P, !S, !F, !X, !V, !C or !<code>)"),
        (" 2  10.0.0.1  1.0 ms\n 1  10.0.0.2  1.0 ms", 2, 2, "hop 1 after hop 2"),
        ("garbage here", 1, 1, "expected a hop number or a header line, found \"garbage\""),
        (" 1  host (10.0.0.300)  1.0 ms", 1, 11, "\"10.0.0.300\" is not an IP address"),
        (" 1  * !H", 1, 7, "annotation !H without a time before it"),
        (" 1  10.0.0.1  -1500.5 ms", 1, 15, "time -1500.5 ms out of range"),
        (" 1  10.0.0.1  4294967.3 ms", 1, 15, "time 4294967.3 ms out of range"),
    ])
    func malformedOutputNamesLineAndColumn(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        do {
            _ = try TracerouteTextParser(method: .udp, source: "t").parse(text)
            Issue.record("no error")
        } catch {
            #expect(error.code == .malformedInput)
            #expect(error.line == line && error.column == column)
            #expect(error.message == message)
        }
    }

    /// tcptraceroute under load: a reply timed a few tenths of a millisecond before its probe
    /// (two clocks) is kept, at 0 µs.
    @Test func aReplyTimedJustBeforeItsProbeIsKeptAtZero() throws {
        let out = try TracerouteTextParser(method: .tcp, destination: IPAddress("10.0.0.9"), source: "t")
            .parse(" 1  10.0.0.1  0.052 ms  -0.167 ms  0.071 ms\n 2  10.0.0.9 [closed]  -9.938 ms  0.1 ms  0.2 ms")
        #expect(out.probes.map(\.rttMicros) == [52, 0, 71, 0, 100, 200])
        #expect(out.probes.prefix(3).allSatisfy { $0.address == IPAddress("10.0.0.1") })
    }

    /// Shapes other traceroutes print (written from their manuals and source, not recorded
    /// here: this machine has only Linux's): numeric unreachable codes both ways, a link-local
    /// hop with its zone, `-A`'s AS numbers, BSD's indented lines for more responders at a TTL,
    /// and traceroute6's header.
    @Test func otherTraceroutesShapes() throws {
        let text = """
            traceroute6 to 2001:db8::9 (2001:db8::9) from 2001:db8::1, 64 hops max, 20 byte packets
             1  fe80::1%eth0  0.512 ms  0.430 ms  0.421 ms
             2  2001:db8:1::1 [AS64500]  5.1 ms  5.0 ms
                2001:db8:2::1 [*]  6.2 ms
             3  2001:db8::9  9.9 ms !<4>  9.8 ms !4  *
            """
        let out = try TracerouteTextParser(method: .udp, source: "t").parse(text)
        #expect(out.destination == IPAddress("2001:db8::9"))
        #expect(out.probes.map(\.ttl) == [1, 1, 1, 2, 2, 2, 3, 3, 3])
        #expect(out.probes[0].address == IPAddress("fe80::1"))
        #expect(out.probes[5].address == IPAddress("2001:db8:2::1") && out.probes[5].ttl == 2)
        #expect(out.asNumbers == [try #require(IPAddress("2001:db8:1::1")): 64500])
        #expect(out.probes[6].icmpType == 1 && out.probes[6].icmpCode == 4 && out.probes[7].icmpCode == 4)
        #expect(out.probes[8].isLoss)
    }

    @Test func outputWithoutAHeaderNeedsTheDestination() throws {
        let text = " 1  10.0.0.1  0.5 ms\n 2  10.0.0.9  0.9 ms\n"
        do {
            _ = try TracerouteTextParser(method: .udp, source: "tr.txt").parse(text)
            Issue.record("no error")
        } catch {
            #expect(error.message.hasSuffix("give it with --destination") && error.source == "tr.txt")
        }
        #expect(try TracerouteTextParser(method: .udp, destination: IPAddress("10.0.0.9")).parse(text).reached)
    }
}

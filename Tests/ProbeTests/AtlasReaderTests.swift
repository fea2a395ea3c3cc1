import Foundation
import Testing
import PathTSDB
@testable import Probe

/// Recorded shapes of Atlas traceroute results: a current-firmware UDP trace with a timeout, an
/// ICMP error, MPLS extensions, a late and a duplicate packet; an IPv6 ICMP trace; and an old
/// firmware result without paris_id whose hop reports an error.
let atlasLines = [
    #"{"fw":5080,"lts":12,"af":4,"dst_addr":"192.0.2.77","dst_name":"www.example.net","src_addr":"10.0.0.2","from":"198.51.100.7","msm_id":5001,"msm_name":"Traceroute","prb_id":6042,"timestamp":1700000000,"endtime":1700000003,"proto":"UDP","paris_id":3,"size":48,"type":"traceroute","result":[{"hop":1,"result":[{"from":"10.0.0.1","ttl":64,"size":76,"rtt":0.512},{"from":"10.0.0.1","ttl":64,"size":76,"rtt":0.4996},{"x":"*"}]},{"hop":2,"result":[{"from":"203.0.113.9","ttl":253,"size":140,"rtt":5.25,"icmpext":{"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[{"exp":0,"label":24005,"s":1,"ttl":1}]}]}},{"from":"203.0.113.9","ttl":253,"size":140,"rtt":5.1,"late":2},{"from":"203.0.113.10","ttl":253,"size":140,"rtt":5.3}]},{"hop":3,"result":[{"from":"192.0.2.77","ttl":60,"size":48,"rtt":12.0},{"from":"192.0.2.77","ttl":60,"size":48,"rtt":12.0,"dup":true},{"from":"192.0.2.77","ttl":60,"size":48,"rtt":11.875,"err":"A"}]}]}"#,
    #"{"af":6,"dst_addr":"2001:db8::80","dst_name":"v6.example.net","prb_id":1,"timestamp":1700000060,"endtime":1700000061,"proto":"ICMP","paris_id":1,"type":"traceroute","result":[{"hop":1,"result":[{"from":"2001:db8::1","ttl":64,"rtt":1.001},{"x":"*"},{"from":"2001:db8::1","ttl":64,"rtt":1.0}]},{"hop":2,"result":[{"from":"2001:db8::80","ttl":62,"rtt":9.5},{"from":"2001:db8::80","ttl":62,"rtt":9.5},{"from":"2001:db8::80","ttl":62,"rtt":9.5}]}]}"#,
    #"{"fw":4400,"dst_addr":"198.51.100.200","from":"198.51.100.7","prb_id":77,"timestamp":1700000120,"proto":"ICMP","type":"traceroute","result":[{"hop":1,"result":[{"from":"10.1.1.1","ttl":64,"rtt":0.3}]},{"hop":2,"error":"sendto failed: Network is unreachable"},{"hop":4,"result":[{"x":"*"},{"x":"*"}]}]}"#,
]

func readAll(_ text: String, chunkSize: Int = 1 << 16) throws -> ([TraceRun], AtlasStreamReader.Summary) {
    var runs = [TraceRun]()
    let summary = try AtlasStreamReader(chunkSize: chunkSize).read(bytes: Array(text.utf8), name: "test.json") { runs += $0 }
    return (runs, summary)
}

@Suite struct AtlasReaderTests {
    @Test func currentFirmwareResultKeepsEveryProbe() throws {
        let (runs, summary) = try readAll(atlasLines[0])
        let r = try #require(runs.first)
        #expect(r.target == "www.example.net" && r.vantage == "atlas:6042")
        #expect(r.method == .udpParis && r.flowID == 3)
        #expect(r.startMicros == 1_700_000_000_000_000 && r.endMicros == 1_700_000_003_000_000)
        #expect(r.destination == IPAddress("192.0.2.77") && r.reached)
        #expect(r.probes.count == 7)  // 3 + 2 (the late packet is no probe) + 2 (nor the duplicate)
        #expect(r.probes.map(\.ttl) == [1, 1, 1, 2, 2, 3, 3])
        #expect(r.probes[0].rttMicros == 512 && r.probes[1].rttMicros == 500)  // 0.4996 ms rounds to 500 µs
        #expect(r.probes[2].isLoss)
        #expect(r.probes[3].mplsLabels == [MPLSLabel(label: 24005, trafficClass: 0, bottomOfStack: true, ttl: 1)])
        #expect(r.probes[3].replyTTL == 253 && r.probes[3].icmpType == 11)
        #expect(r.probes[4].address == IPAddress("203.0.113.10"))
        #expect(r.probes[5].icmpType == 3 && r.probes[5].icmpCode == 3)    // UDP at the destination: port unreachable
        #expect(r.probes[6].icmpType == 3 && r.probes[6].icmpCode == 13)   // !A
        #expect(r.probes[6].rttMicros == 11_875)
        #expect(summary.lateReplies == 1 && summary.duplicateReplies == 1 && summary.results == 1)
    }

    @Test func ipv6AndOldFirmwareResults() throws {
        let (runs, summary) = try readAll(atlasLines[1] + "\n" + atlasLines[2] + "\n")
        #expect(runs.count == 2)
        #expect(runs[0].destination == IPAddress("2001:db8::80") && runs[0].method == .icmpParis)
        #expect(runs[0].probes[5].icmpType == 0)  // echo reply
        #expect(runs[1].target == "198.51.100.200" && runs[1].method == .icmp && runs[1].flowID == 0)
        #expect(runs[1].endMicros == runs[1].startMicros)
        #expect(runs[1].probes.map(\.ttl) == [1, 4, 4] && !runs[1].reached)
        #expect(summary.hopErrors == 1)
    }

    @Test(arguments: [1, 2, 3, 7, 64, 1000, 1 << 20])
    func everyChunkSizeReadsTheSameRuns(chunkSize: Int) throws {
        let text = atlasLines.joined(separator: "\n") + "\n"
        let (whole, _) = try readAll(text)
        let (chunked, _) = try readAll(text, chunkSize: chunkSize)
        #expect(chunked == whole)
        let (array, _) = try readAll("[\n" + atlasLines.joined(separator: ",\n") + "\n]\n", chunkSize: chunkSize)
        #expect(array == whole)
    }

    /// A result that reports an error instead of hops (here a name that did not resolve, as Atlas
    /// writes it) is a failed trace with its reason, and the results around it are read.
    @Test func aResultReportingAnErrorIsAFailedTrace() throws {
        let dnsFailure = #"{"fw":5080,"af":4,"dst_name":"gone.example.invalid","error":"dns resolution failed: non-recoverable failure in name resolution","from":"198.51.100.7","msm_id":5001,"prb_id":6042,"timestamp":1700000300,"type":"traceroute"}"#
        let sendFailure = #"{"fw":4790,"dst_addr":"192.0.2.9","prb_id":77,"timestamp":1700000400,"proto":"ICMP","type":"traceroute","result":[{"error":"sendto failed: Network is unreachable"}]}"#
        let (runs, summary) = try readAll([atlasLines[0], dnsFailure, atlasLines[1], sendFailure].joined(separator: "\n") + "\n")
        #expect(runs.map(\.target) == ["www.example.net", "v6.example.net"])
        #expect(summary.results == 4)
        #expect(summary.failures == [
            MissedSlot(target: "gone.example.invalid", vantage: "atlas:6042", slotMicros: 1_700_000_300_000_000, reason: .failed,
                       detail: "dns resolution failed: non-recoverable failure in name resolution"),
            MissedSlot(target: "192.0.2.9", vantage: "atlas:77", slotMicros: 1_700_000_400_000_000, reason: .failed,
                       detail: "sendto failed: Network is unreachable"),
        ])
    }

    /// Some firmware ends a trace that ran into silence with `"hop": 255`: no TTL that was probed.
    @Test func theHop255TrailerIsNoHop() throws {
        let line = #"{"dst_addr":"192.0.2.1","prb_id":9,"timestamp":1700000000,"proto":"UDP","paris_id":2,"type":"traceroute","result":[{"hop":1,"result":[{"from":"10.0.0.1","rtt":0.5}]},{"hop":2,"result":[{"x":"*"},{"x":"*"},{"x":"*"}]},{"hop":255,"result":[{"x":"*"},{"x":"*"},{"x":"*"}]}]}"#
        let (runs, summary) = try readAll(line)
        #expect(runs.first?.probes.map(\.ttl) == [1, 2, 2, 2])
        #expect(summary.trailers == 1)
        // A real 255th hop, after the 254th, stays.
        let hops = (1...255).map { #"{"hop":\#($0),"result":[{"x":"*"}]}"# }.joined(separator: ",")
        let full = #"{"dst_addr":"192.0.2.1","prb_id":9,"timestamp":1700000000,"proto":"UDP","paris_id":2,"type":"traceroute","result":["# + hops + "]}"
        #expect(try readAll(full).0.first?.probes.last?.ttl == 255)
    }

    @Test func escapesInStringsAreDecoded() throws {
        let line = atlasLines[1].replacingOccurrences(of: #""dst_name":"v6.example.net""#, with: #""dst_name":"v6\u002eexample\"net""#)
        let (runs, _) = try readAll(line)
        #expect(runs.first?.target == "v6.example\"net")
    }

    struct Malformed: Sendable, CustomStringConvertible {
        let text: String
        let line: Int
        let column: Int
        let message: String
        var description: String { message }
    }

    static let malformed: [Malformed] = [
        Malformed(text: atlasLines[1] + "\n" + String(atlasLines[1].dropLast(5)), line: 2, column: 1, message: "input ends inside the traceroute result that starts here"),
        Malformed(text: atlasLines[1] + "\nhello\n", line: 2, column: 1, message: "expected '{' to start a traceroute result, found 'h'"),
        Malformed(text: #"{"dst_addr":"300.1.1.1","timestamp":1,"result":[]}"#, line: 1, column: 13, message: "dst_addr is not an IP address"),
        Malformed(text: #"{"dst_addr":"192.0.2.1","timestamp":1}"#, line: 1, column: 1, message: "traceroute result without \"result\""),
        Malformed(text: "\n\n" + #"{"dst_addr":"192.0.2.1","timestamp":1,"result":[{"hop":2,"result":[]},{"hop":1,"result":[]}]}"#, line: 3, column: 71, message: "hop 1 after hop 2: hops out of order"),
        Malformed(text: #"{"dst_addr":"192.0.2.1","timestamp":1,"result":[{"hop":1,"result":[{"from":"192.0.2.9"}]}]}"#, line: 1, column: 68, message: "reply from 192.0.2.9 without \"rtt\""),
        Malformed(text: #"{"dst_addr":"192.0.2.1","timestamp":1 "result":[]}"#, line: 1, column: 39, message: "expected ',' or '}', found '\"'"),
        Malformed(text: #"{"type":"ping","dst_addr":"192.0.2.1","timestamp":1,"result":[]}"#, line: 1, column: 1, message: "result of type \"ping\", not a traceroute"),
        Malformed(text: #"{"dst_addr":"192.0.2.1","timestamp":9223372036854775807,"result":[]}"#, line: 1, column: 37,
                  message: "timestamp 9223372036854775807 is not a Unix time from 1970 to 9999"),
        Malformed(text: #"{"dst_addr":"192.0.2.1","timestamp":1,"endtime":-5,"result":[]}"#, line: 1, column: 49,
                  message: "endtime -5 is not a Unix time from 1970 to 9999"),
        Malformed(text: #"{"dst_addr":"192.0.2.1","timestamp":1,"x":"# + String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_001),
                  line: 1, column: 43 + 5 * 128, message: "nested deeper than 128 levels"),
        Malformed(text: "[" + atlasLines[2] + ",", line: 1, column: atlasLines[2].utf8.count + 3, message: "input ends inside the top-level array (missing ']')"),
    ]

    @Test(arguments: malformed)
    func malformedInputNamesLineColumnAndCause(_ m: Malformed) throws {
        for chunk in [1, 5, 1 << 16] {
            var delivered = 0
            do {
                _ = try AtlasStreamReader(chunkSize: chunk).read(bytes: Array(m.text.utf8), name: "bad.json") { delivered += $0.count }
                Issue.record("no error for \(m.message)")
            } catch let e as ProbeError {
                #expect(e.code == .malformedInput)
                #expect(e.source == "bad.json")
                #expect(e.message == m.message)
                #expect(e.line == m.line, "chunk \(chunk)")
                #expect(e.column == m.column, "chunk \(chunk)")
            }
            // What came before the bad result was delivered, not dropped.
            if m.text.hasPrefix(atlasLines[1] + "\n") { #expect(delivered == 1) }
        }
    }
}

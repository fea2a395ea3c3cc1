import Foundation
import Testing
import PathTSDB
@testable import Probe

@Suite struct MtrRawParserTests {
    func parse(_ name: String, destination: String = "10.99.3.2") throws -> TracerOutput {
        try MtrRawParser(destination: try #require(IPAddress(destination)), source: name).parse(try fixture(name))
    }

    @Test func everyProbeOfEveryCycleUpToTheDestination() throws {
        let out = try parse("mtr-raw.txt")
        // Two cycles over three hops; mtr's probes past the destination are counted, not stored.
        #expect(out.probes.map(\.ttl) == [1, 1, 2, 2, 3, 3])
        #expect(out.probes.map(\.address) == [r1, r1, r2, r2, dst, dst])
        #expect(out.probes[0].rttMicros == 78)
        #expect(out.reached && out.probes[5].icmpType == 0)
        #expect(out.probesBeyondDestination == (try fixture("mtr-raw.txt")).split(separator: "\n").filter { $0.hasPrefix("x ") }.count - 6)
    }

    @Test func silentHopAndLoss() throws {
        let silent = try parse("mtr-raw-silent.txt")
        #expect(silent.probes.filter { $0.ttl == 2 }.count == 2)
        #expect(silent.probes.filter { $0.ttl == 2 }.allSatisfy { $0.isLoss })
        let lossy = try parse("mtr-raw-loss.txt")
        let sentAtOrBelow3 = try fixture("mtr-raw-loss.txt").split(separator: "\n").filter { $0.hasPrefix("x ") && Int($0.split(separator: " ")[1])! <= 2 }.count
        #expect(lossy.probes.count == sentAtOrBelow3)
        #expect(lossy.probes.contains { $0.isLoss })
    }

    @Test func ipv6() throws {
        let out = try parse("mtr6-raw.txt", destination: "fd99:3::2")
        #expect(out.probes.first?.address == IPAddress("fd99:1::2") && out.reached)
    }

    @Test(arguments: [
        ("x 0 1\nq 0 1", 2, 1, "unknown line kind \"q\" (expected x, h, d or p)"),
        ("x 0 1\nh 0 10.0.0.1\np 0 12 7", 3, 8, "reply to probe 7 at position 0, which was not sent there"),
        ("x 0 1\np 0 12 1", 2, 1, "reply at position 0 before any h line names who answers there"),
        ("x zero 1", 1, 3, "expected a position (0–254), found \"zero\""),
        ("h 0 not-an-ip", 1, 5, "\"not-an-ip\" is not an IP address"),
        ("x 0", 1, 4, "x line without its sequence number"),
    ])
    func malformedRawOutput(_ text: String, _ line: Int, _ column: Int, _ message: String) throws {
        do {
            _ = try MtrRawParser(destination: try #require(IPAddress("10.0.0.9"))).parse(text)
            Issue.record("no error")
        } catch let e as ProbeError {
            #expect(e.line == line && e.column == column && e.message == message)
        }
    }
}

@Suite struct ScamperJSONParserTests {
    func traces(_ name: String) throws -> [ScamperTrace] { try ScamperJSONParser(source: name).parse(try fixture(name)) }

    @Test func firstAnswerPerHop() throws {
        let t = try #require(try traces("sc-udp-paris.json").first)
        #expect(t.method == .udpParis && t.stopReason == "COMPLETED" && t.output.destination == dst)
        #expect(t.output.probes.map(\.ttl) == [1, 2, 3])
        #expect(t.output.probes.map(\.address) == [r1, r2b, dst])
        #expect(t.output.probes[0].rttMicros == 38 && t.output.probes[0].replyTTL == 64)
        #expect(t.output.probes[2].icmpType == 3 && t.output.probes[2].icmpCode == 3)
        #expect(t.flowID == 35954 && t.startMicros == 1_795_569_680_066_357)
    }

    @Test(arguments: ["sc-udp-paris-all.json", "sc-icmp-paris-all.json"])
    func allAttemptsPerHop(_ name: String) throws {
        let t = try #require(try traces(name).first)
        #expect(t.output.probes.map(\.ttl) == [1, 1, 1, 2, 2, 2, 3, 3, 3])
        #expect(t.output.reached)
        // Paris: one flow for the whole trace, so one branch of the ECMP pair at TTL 2.
        #expect(Set(t.output.probes.filter { $0.ttl == 2 }.map(\.address)).count == 1)
    }

    @Test func silentHopBecomesLostProbes() throws {
        let t = try #require(try traces("sc-silent.json").first)
        #expect(t.output.probes.filter { $0.ttl == 2 }.count == 2)
        #expect(t.output.probes.filter { $0.ttl == 2 }.allSatisfy { $0.isLoss })
        #expect(t.output.probes.filter { $0.ttl != 2 }.allSatisfy { !$0.isLoss })
    }

    @Test func ipv6() throws {
        let t = try #require(try traces("sc6-udp-paris.json").first)
        #expect(t.output.destination == IPAddress("fd99:3::2") && t.output.reached)
        #expect(t.output.probes.last?.icmpType == 1 && t.output.probes.last?.icmpCode == 4)
    }

    /// scamper's 32-bit time difference wraps for a reply stamped before its probe: 4294967.295
    /// ms is 1 µs early, kept at 0 µs (and never the untimed marker); a reply of 4000 s is an
    /// RTT of 4000 s.
    @Test func aWrappedEarlyReplyIsZeroMicroseconds() throws {
        let line = try fixture("sc-udp-paris.json").split(separator: "\n").first { $0.contains("\"type\":\"trace\"") }.map(String.init) ?? ""
        let wrapped = line.replacingOccurrences(of: "\"rtt\":0.060", with: "\"rtt\":4294967.295")
        let t = try #require(try ScamperJSONParser(source: "w").parse(wrapped).first)
        #expect(t.output.probes.first { $0.ttl == 2 }?.rttMicros == 0)
        let slow = line.replacingOccurrences(of: "\"rtt\":0.060", with: "\"rtt\":4000000.000")
        #expect(try ScamperJSONParser(source: "s").parse(slow).first?.output.probes.first { $0.ttl == 2 }?.rttMicros == 4_000_000_000)
    }

    @Test func mplsExtensions() throws {
        let line = #"{"type":"trace","method":"icmp-echo-paris","dst":"192.0.2.9","attempts":1,"probe_count":1,"hop_count":1,"firsthop":1,"hops":[{"addr":"192.0.2.1","probe_ttl":1,"probe_id":1,"rtt":1.5,"icmp_type":11,"icmp_code":0,"icmpext":[{"ie_cn":1,"ie_ct":1,"ie_dl":4,"mpls_labels":[{"mpls_ttl":1,"mpls_s":1,"mpls_exp":0,"mpls_label":24005}]}]}]}"#
        let t = try #require(try ScamperJSONParser().parse(line).first)
        #expect(t.output.probes[0].mplsLabels == [MPLSLabel(label: 24005, trafficClass: 0, bottomOfStack: true, ttl: 1)])
        #expect(t.output.probes[0].rttMicros == 1500)
    }

    @Test func countsThatAddUpNeitherWayAreAnError() {
        let line = #"{"type":"trace","method":"udp-paris","dst":"192.0.2.9","attempts":2,"probe_count":5,"hop_count":1,"firsthop":1,"hops":[{"addr":"192.0.2.1","probe_ttl":1,"probe_id":1,"rtt":1.5,"icmp_type":11,"icmp_code":0}]}"#
        do {
            _ = try ScamperJSONParser(source: "s").parse("\n" + line)
            Issue.record("no error")
        } catch {
            #expect(error.line == 2 && error.column == 1)
            #expect(error.message.hasPrefix("probe_count 5 fits neither"))
        }
        #expect(throws: ProbeError.self) { try ScamperJSONParser().parse(#"{"type":"trace","dst":"nope","probe_count":0}"#) }
    }
    /// Numbers and nesting from outside cannot trap the reader: each extreme is an error at its
    /// position.
    @Test func extremesAreErrorsNotTraps() throws {
        let base = #"{"type":"trace","method":"udp-paris","dst":"192.0.2.9","attempts":1,"probe_count":0,"hop_count":0,"firsthop":1,"start":{"sec":@S,"usec":@U},"hops":[]}"#
        func message(_ sec: String, _ usec: String) -> String? {
            do {
                _ = try ScamperJSONParser(source: "x").parse(base.replacingOccurrences(of: "@S", with: sec).replacingOccurrences(of: "@U", with: usec))
                return nil
            } catch { return error.message }
        }
        #expect(message("9223372036854775807", "0") == "start.sec 9223372036854775807 is not a Unix time from 1970 to 9999")
        #expect(message("-1", "0") == "start.sec -1 is not a Unix time from 1970 to 9999")
        #expect(message("1795569680", "1000000") == "start.usec 1000000 is not 0 to 999999")
        #expect(message("253402300799", "999999") == nil)
        let deep = #"{"type":"trace","dst":"192.0.2.9","x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(throws: ProbeError.self) { try ScamperJSONParser(source: "x").parse(deep) }
        do { _ = try ScamperJSONParser(source: "x").parse(deep) } catch { #expect(error.message == "nested deeper than 128 levels") }
    }
}

/// scamper's objects inside another document, and objects of other measurements beside traces.
@Suite struct ScamperWrappedJSONTests {
    /// The lab's scamper output (one trace), wrapped as an archive does: a metadata object and
    /// scamper's objects as members, pretty-printed over many lines.
    @Test func tracesNestedInAnotherDocumentAreRead() throws {
        let lines = try fixture("sc-udp-paris.json").split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 3)
        let wrapped = """
            {
              "Metadata": {"UUID": "ndt-abc_1", "TracerouteCallerVersion": "v0.10", "CachedResult": false, "CachedUUID": ""},
              "CycleStart": \(lines[0]),
              "Trace": \(lines[1]),
              "CycleStop": \(lines[2])
            }
            """
        let direct = try ScamperJSONParser(source: "lines").parse(try fixture("sc-udp-paris.json"))
        var others = [String: Int]()
        let nested = try ScamperJSONParser(source: "wrapped").parse(wrapped, otherMeasurements: &others)
        #expect(nested == direct && nested.count == 1 && others.isEmpty)
        // An array of such documents, one per line after the "[".
        let array = "[\n" + wrapped.replacingOccurrences(of: "\n", with: " ") + ",\n" + wrapped.replacingOccurrences(of: "\n", with: " ") + "\n]\n"
        #expect(try ScamperJSONParser(source: "array").parse(array).count == 2)
        // A broken document is an error at its line and column.
        do {
            _ = try ScamperJSONParser(source: "broken").parse(String(wrapped.dropLast(2)))
            Issue.record("a cut document was read")
        } catch {
            #expect(error.source == "broken" && error.line != nil)
        }
    }

    /// M-Lab's line-based files start with a metadata line; ping and tracelb objects are counted.
    @Test func metadataLinesPassAndOtherMeasurementsAreCounted() throws {
        let text = #"{"UUID":"ndt-abc_1","TracerouteCallerVersion":"v0.10","CachedResult":false,"CachedUUID":""}"# + "\n"
            + (try fixture("sc-udp-paris.json"))
            + #"{"type":"tracelb","version":"0.1","method":"icmp-echo","src":"10.99.1.1","dst":"10.99.3.2","nodes":[]}"# + "\n"
            + #"{"type":"ping","version":"0.4","method":"icmp-echo","src":"10.99.1.1","dst":"10.99.3.2"}"# + "\n"
        var others = [String: Int]()
        let traces = try ScamperJSONParser(source: "m").parse(text, otherMeasurements: &others)
        #expect(traces.count == 1 && others == ["tracelb": 1, "ping": 1])
    }
}

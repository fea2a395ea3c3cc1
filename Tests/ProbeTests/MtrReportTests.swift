import Foundation
import Testing
import PathTSDB
import Query
@testable import Probe

/// mtr's reports, recorded in the lab (Fixtures/README.md): per-hop counts and figures, stored
/// as untimed replies and lost probes with the figures beside them.
@Suite struct MtrReportTests {
    func text(_ name: String) throws -> MtrReport { try MtrReportParser(source: name).parse(try fixture(name)) }
    func json(_ name: String) throws -> MtrReport { try MtrJSONParser(source: name).parse(try fixture(name)) }

    @Test func textReportKeepsEveryHostOfALoadBalancedHop() throws {
        for name in ["mtr-report-ecmp-n.txt", "mtr-report-wide-ecmp-n.txt"] {
            let report = try text(name)
            #expect(report.hops.map(\.ttl) == [1, 2, 3])
            #expect(report.hops.map(\.hosts) == [[r1], [r2b, r2], [dst]].map { $0.compactMap { $0 } }, "\(name)")
            #expect(report.hops.allSatisfy { $0.sent == 10 && $0.received == 10 })
            #expect(report.hops[0].averageMicros == 100 && report.hops[0].stdDevMicros == 0)
            #expect(report.destination == nil)
        }
        let started = try text("mtr-report-ecmp-n.txt").startMicros
        #expect(started == RFC3339.parse("2026-12-04T18:57:55Z"))
        let out = try text("mtr-report-ecmp-n.txt").output(destination: try #require(dst), method: .udp)
        // 30 probes, all answered, none with a time; hop 2's replies split 9 and 1.
        #expect(out.probes.count == 30 && out.probes.allSatisfy { $0.address != nil && !$0.isTimed })
        #expect(out.probes.filter { $0.ttl == 2 }.map(\.address) == Array(repeating: r2b, count: 9) + [r2])
        #expect(out.reached && out.figures?.map(\.ttl) == [1, 2, 3])
        #expect(out.probes.last?.icmpType == 3 && out.probes.last?.icmpCode == 3)  // UDP: port unreachable from the destination
    }

    @Test func namesWithAddressesAreKeptAndNamesAloneRefused() throws {
        let b = try text("mtr-report-ecmp-b.txt")
        #expect(b.hops.map(\.hosts) == [[r1], [r2, r2b], [dst]].map { $0.compactMap { $0 } })
        let branch = try #require(r2b)
        #expect(b.names[branch] == "r2b.lab.test")
        do {
            _ = try text("mtr-report-ecmp-names.txt")
            Issue.record("a report of names alone was read")
        } catch let e as ProbeError {
            #expect(e.line == 3 && e.column == 9)
            #expect(e.message == "host \"r1.lab.test\" is not an address: run mtr with -n (addresses) or -b (names and addresses)")
        }
        let bJSON = try json("mtr-json-silent-b.txt")
        let d = try #require(dst)
        #expect(bJSON.destination == dst && bJSON.names[d] == "dst.lab.test")
        do {
            _ = try json("mtr-json-silent-names.txt")
            Issue.record("a JSON report of names alone was read")
        } catch let e as ProbeError {
            #expect(e.line == 14 && e.message.hasPrefix("host \"r1.lab.test\" is not an address"))
        }
    }

    /// A silent router before a lossy destination: the router's probes are all lost and carry
    /// no figures; the destination's loss is mtr's Loss%.
    @Test func silentHopAndLossInBothFormats() throws {
        let t = try text("mtr-report-silent-loss-n.txt")
        #expect(t.hops.map(\.hosts) == [[r1], [], [dst]].map { $0.compactMap { $0 } })
        #expect(t.hops.map(\.sent) == [20, 20, 20] && t.hops.map(\.received) == [20, 0, 13])  // Loss% 35.0
        let j = try json("mtr-json-silent-loss.txt")
        #expect(j.destination == dst && j.hops.map(\.received) == [20, 0, 11])  // Loss% 45.0
        #expect(j.hops[2].averageMicros == 95 && j.hops[2].bestMicros <= j.hops[2].averageMicros)
        let out = j.output(destination: try #require(dst), method: .icmp)
        #expect(out.probes.filter { $0.ttl == 2 }.allSatisfy { $0.isLoss })
        #expect(out.figures?.map(\.ttl) == [1, 3])
        #expect(out.probes.last { $0.address == dst }?.icmpType == 0)  // echo reply
    }

    @Test func asColumnAndChosenFields() throws {
        let z = try text("mtr-report-asn-n.txt")
        #expect(z.hops.map(\.ttl) == [1, 2, 3] && z.asNumbers.isEmpty)  // AS??? everywhere
        #expect(z.hops[2].received == 2)  // 80.0% of 10 lost
        let o = try text("mtr-report-fields-n.txt")  // -o "LDRS NBAW": Rcv and Drop, no StDev
        #expect(o.hops.map(\.received) == [10, 0, 5])
        #expect(o.hops[0].stdDevMicros == ProbeReply.untimed && o.hops[0].worstMicros == 100)
        let v6 = try text("mtr6-report-wide-n.txt")
        #expect(v6.hops.map(\.hosts) == [["fd99:1::2"], ["fd99:2::2"], ["fd99:3::2"]].map { $0.compactMap(IPAddress.init) })
    }

    @Test(arguments: [
        ("  1.|-- 10.0.0.1  0.0%  1  0.1 0.1 0.1 0.1 0.0\n", 1, 3, "expected mtr's \"HOST:\" line before the hops, found \"1.|--\""),
        ("HOST: vm Loss% Last\n", 1, 1, "the HOST line needs the Snt column and one of Loss%, Rcv or Drop (mtr -o)"),
        ("HOST: vm Loss% Snt\n  2.|-- 10.0.0.1 0.0% 3\n  1.|-- 10.0.0.2 0.0% 3\n", 3, 3, "hop 1 after hop 2"),
        ("HOST: vm Loss% Snt\n  1.|-- 10.0.0.1 150.0 3\n", 2, 18, "Loss% 150.0 is over 100"),
        ("HOST: vm Loss% Snt\n  1.|-- 10.0.0.1 0.0%\n", 2, 3, "hop 1: expected a host and the HOST line's 2 columns, found 2 fields"),
        ("HOST: vm Loss% Snt\n  1.|-- ??? 0.0% 3\n", 2, 3, "hop 1 shows no host (???) but 3 answered probes"),
        ("HOST: vm Loss% Snt\n  1.|-- 10.0.0.1 0.0% x\n", 2, 23, "Snt \"x\" is not a number"),
        ("HOST: vm Loss% Snt\n", 1, 1, "the report has no hops"),
    ])
    func malformedTextReport(_ input: String, _ line: Int, _ column: Int, _ message: String) throws {
        do {
            _ = try MtrReportParser(source: "r").parse(input)
            Issue.record("no error for \(input)")
        } catch {
            #expect(error.line == line && error.column == column && error.message == message, "\(error)")
        }
    }

    @Test func malformedJSONReport() throws {
        for (input, message) in [
            (#"{"report": {"hubs": [{"host": "10.0.0.1", "Snt": 1}]}}"#, "hub without a hop number 1 to 255 (\"count\")"),
            (#"{"nope": 1}"#, "no \"report\" object: not mtr's JSON (mtr --json)"),
            (#"{"report": {"hubs": []}}"#, "the report has no hops (\"hubs\")"),
            (#"{"report": {"hubs": [{"count": 2, "host": "10.0.0.1"}, {"count": 1, "host": "10.0.0.2"}]}}"#, "hop 1 after hop 2"),
            (#"{"report": {"hubs": [{"count": 1, "host": "10.0.0.1", "Loss%": 101}]}}"#, "Loss% is not 0 to 100"),
        ] {
            #expect(throws: ProbeError.self) { try MtrJSONParser(source: "j").parse(input) }
            do { _ = try MtrJSONParser(source: "j").parse(input) } catch { #expect(error.message == message, "\(input)") }
        }
        // mtr before 0.93 wrote "count" as a string.
        let old = try MtrJSONParser().parse(#"{"report": {"mtr": {"dst": "10.0.0.9"}, "hubs": [{"count": "1", "host": "10.0.0.9", "Loss%": 0.0, "Snt": 2}]}}"#)
        #expect(old.hops.map(\.ttl) == [1] && old.hops[0].received == 2)
    }

    /// Stored, a report counts in loss like any run and gives no RTT statistics, and a report
    /// of a silent router before a lossy destination reads as traces of it do.
    @Test func storedReportsGiveLossAndNoInventedTimes() throws {
        let dir = NSTemporaryDirectory() + "/mtr-report-store-\(UUID().uuidString)"
        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: dir, options: o)
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let report = try json("mtr-json-silent-loss.txt")
        let d = try #require(dst)
        let start = try #require(RFC3339.parse("2026-12-04T19:00:00Z"))
        let run = try #require(report.output(destination: d, method: .icmp).run(
            target: "lab-mtr", vantage: "v", method: .icmp, flowID: 0, startMicros: start, endMicros: start))
        try store.append([run])
        try store.flush()
        let snap = store.snapshot()
        let context = QueryContext(nowMicros: start + 60_000_000)
        for source in ["raw", "rollups"] {
            let hops = try QueryEngine.table("stats count, answered, loss, silent, mean of lab-mtr by ttl from 2026-12-04T19:00:00Z to 2026-12-04T20:00:00Z using \(source)",
                                             snapshot: snap, context: context)
            #expect(hops.columns == ["ttl", "count", "answered", "loss", "silent", "mean"])
            let byTTL = Dictionary(hops.rows.compactMap { row in row[0].double.map { (Int($0), row) } }) { a, _ in a }
            #expect(byTTL.count == 3)
            #expect(byTTL[1]?[1] == .integer(20) && byTTL[1]?[2] == .integer(20) && byTTL[1]?[5] == .null, "\(source): \(hops.rows)")
            #expect(byTTL[2]?[2] == .integer(0) && byTTL[2]?[4] == .integer(1), "\(source): \(hops.rows)")
            #expect(byTTL[3]?[3] == .number(45), "\(source): \(hops.rows)")
            let target = try QueryEngine.table("stats loss of lab-mtr by target from 2026-12-04T19:00:00Z to 2026-12-04T20:00:00Z using \(source)", snapshot: snap, context: context)
            #expect(target.rows.first?[1] == .number(45), "\(source)")
        }
        // The figures come back with the run.
        let table = snap.runs(of: try #require(snap.catalog.targetID(named: "lab-mtr")), in: Int64.min..<Int64.max).table
        let stored = try #require(table.runs.first)
        #expect(table.figures(of: stored)?.map(\.averageMicros) == [75, 95])
    }
}

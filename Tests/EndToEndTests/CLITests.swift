import Foundation
@testable import PathTSDB
import Testing

@Suite struct CLITests {
    static let sample: Data = {
        // The committed demo sample, gunzipped by the system's gzip.
        let src = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/atlas-10targets-2h.jsonl.gz")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-dc", src.path]
        let out = Pipe()
        p.standardOutput = out
        try? p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return data
    }()

    @Test func importThenAnswerQuestions() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        #expect(CLITests.sample.count > 1_000_000)
        let imp = try stserver(["import", "--data", dir.path, "-"], input: CLITests.sample)
        #expect(imp.status == 0, "\(imp.stderr)")
        #expect(imp.stdout.hasPrefix("imported 1,200 results: 43,920 probes, 42,109 RTT samples, 3,110,681 bytes in "))

        let info = try stserver(["info", "--data", dir.path])
        #expect(info.status == 0)
        #expect(info.stdout.contains("targets:      10\n"))
        #expect(info.stdout.contains("RTT samples:  42,109\n"))
        #expect(info.stdout.contains("time range:   2026-11-21T18:00:03Z … 2026-11-21T19:59:56Z\n"))

        let csv = try stserver(["hops", "--data", dir.path, "--target", "t0003.targets.example.net", "--step", "1h",
                                "--source", "raw", "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\r\n")
        #expect(lines.first == "time,ttl,count,loss,min,p50,p95,max,mean,reply_loss,silent")
        // 11 hops in each of the two hours: 60 runs × 3 probes per hop per hour.
        #expect(lines.count == 1 + 22)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[2] == "180" })

        // Rollups answer the same sent/loss columns.
        let rolled = try stserver(["hops", "--data", dir.path, "--target", "t0003.targets.example.net", "--step", "1h",
                                   "--source", "rollup", "--format", "csv"])
        func column(_ s: String, _ i: Int) -> [Substring] {
            s.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false)[i] }
        }
        #expect(column(rolled.stdout, 3) == column(csv.stdout, 3))
        #expect(column(rolled.stdout, 4) == column(csv.stdout, 4))

        let paths = try stserver(["paths", "--data", dir.path, "--target", "t0006.targets.example.net", "--format", "csv"])
        #expect(paths.status == 0)
        let pathRows = paths.stdout.split(separator: "\r\n").dropFirst()
        #expect(pathRows.count == 4)
        // Columns: target, path, variants, first_seen, last_seen, runs …
        let routeRuns = pathRows.map { Int($0.split(separator: ",")[5]) ?? 0 }
        #expect(routeRuns.reduce(0, +) == 120)
        // One route's hops: every run sends 3 probes at TTL 1, so the TTL-1 counts add up to
        // three times that route's runs, not the target's.
        let route = try #require(pathRows.first?.split(separator: ",")[1])
        let onePath = try stserver(["hops", "--data", dir.path, "--target", "t0006.targets.example.net", "--path", String(route),
                                    "--format", "csv"])
        #expect(onePath.status == 0, "\(onePath.stderr)")
        let ttlOne = onePath.stdout.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .filter { $0[1] == "1" }
        #expect(ttlOne.map { Int($0[2]) ?? 0 }.reduce(0, +) == 3 * (routeRuns.first ?? 0))
        #expect((routeRuns.first ?? 0) < 120)

        let changes = try stserver(["changes", "--data", dir.path, "--format", "json"])
        #expect(changes.status == 0)
        #expect(changes.stdout.contains("\"target\": \"t0006.targets.example.net\""))
        #expect(changes.stdout.contains("\"diff_ttl\": 13"))
    }

    @Test func malformedInputExitsWithDataErrorAndKeepsWhatCameBefore() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let good = CLITests.sample.prefix { $0 != 0x0A }
        var input = Data(good)
        input.append(contentsOf: Array("\n{\"dst_addr\":\"192.0.2.1\",\"timestamp\":1,\"result\":[{\"hop\":1,\"result\":[{\"from\":\"x\",\"rtt\":1}]}]}\n".utf8))
        let r = try stserver(["import", "--data", dir.path, "-"], input: input)
        #expect(r.status == 65)
        #expect(r.stderr == "stserver: <stdin>:2:76 (byte \(good.count + 76)): \"from\" is not an IP address\n")
        let info = try stserver(["info", "--data", dir.path])
        #expect(info.stdout.contains("runs:         1\n"))
    }

    /// The lock is the writer's: a second writer is refused with the holder's pid (exit 75),
    /// while a reader (`info`, `query`, …) opens beside it.
    @Test func aLockedDirectoryRefusesASecondWriterNotAReader() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: stserverPath)
        p.arguments = ["import", "--data", dir.path, "-"]
        let stdin = Pipe()
        p.standardInput = stdin
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer {
            try? stdin.fileHandleForWriting.close()
            p.waitUntilExit()
        }
        // The importer holds the lock while it waits for input.
        var lockHeld = false
        for _ in 0..<200 where !lockHeld {
            lockHeld = (try? String(contentsOfFile: dir.path + "/LOCK", encoding: .utf8))?.hasPrefix("\(p.processIdentifier)") == true
            if !lockHeld { usleep(10_000) }
        }
        try #require(lockHeld)
        let r = try stserver(["compact", "--data", dir.path])
        #expect(r.status == 75)
        #expect(r.stderr.contains("is locked by pid \(p.processIdentifier)"))
        let info = try stserver(["info", "--data", dir.path])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("runs:         0\n"))
    }

    /// An import is safe to run again: a file imported twice is stored once, and an import cut
    /// short (here: only its first 500 results got in) is completed by running it again.
    @Test func anImportRunAgainStoresOnlyWhatItHadNotStored() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let lines = CLITests.sample.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        #expect(lines.count == 1200)
        let firstPart = Data(lines[..<500].joined(separator: [UInt8(ascii: "\n")]))
        let part = try stserver(["import", "--data", dir.path, "-"], input: firstPart)
        #expect(part.status == 0 && part.stdout.hasPrefix("imported 500 results: "), "\(part.stdout) \(part.stderr)")
        let whole = try stserver(["import", "--data", dir.path, "-"], input: CLITests.sample)
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stdout.hasPrefix("imported 700 results: "), "\(whole.stdout)")
        #expect(whole.stdout.hasSuffix("; 500 already stored, not stored again\n"), "\(whole.stdout)")
        let again = try stserver(["import", "--data", dir.path, "-"], input: CLITests.sample)
        #expect(again.stdout.hasPrefix("imported 0 results: 0 probes, 0 RTT samples"), "\(again.stdout)")
        #expect(again.stdout.hasSuffix("; 1,200 already stored, not stored again\n"), "\(again.stdout)")
        // The same figures as the single import in importThenAnswerQuestions.
        let info = try stserver(["info", "--data", dir.path])
        #expect(info.stdout.contains("RTT samples:  42,109\n"), "\(info.stdout)")

        // An import stopped by a result it cannot read names it; what it stored before stays,
        // and once the file is mended, running it again stores the rest and nothing twice.
        let other = TemporaryDirectory()
        defer { other.remove() }
        let bad = Data(#"{"af":4,"dst_addr":"10.9.0.9","prb_id":1,"timestamp":1795284003,"type":"traceroute","result":[{"hop":2},{"hop":1}]}"#.utf8)
        let broken = Data(lines[..<1100].joined(separator: [UInt8(ascii: "\n")])) + Data("\n".utf8) + bad + Data("\n".utf8)
            + Data(lines[1100...].joined(separator: [UInt8(ascii: "\n")]))
        let stopped = try stserver(["import", "--data", other.path, "-"], input: broken)
        #expect(stopped.status == 65 && stopped.stderr.contains("<stdin>:1101:"), "\(stopped.stderr)")
        let mended = try stserver(["import", "--data", other.path, "-"], input: CLITests.sample)
        #expect(mended.status == 0 && mended.stdout.contains(" already stored, not stored again\n"), "\(mended.stdout)")
        let mendedInfo = try stserver(["info", "--data", other.path])
        #expect(mendedInfo.stdout.contains("RTT samples:  42,109\n"), "\(mendedInfo.stdout)")
    }

    /// A segment set aside by the writer is not forgotten: `verify` names it, what it lost and
    /// why, and fails; `info` lists it; a query answers without the lost runs and says so. A
    /// damaged chunk costs one target's runs of the segment: the other targets keep theirs.
    @Test func quarantinedDataIsReportedByVerifyInfoAndQueries() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let imp = try stserver(["import", "--data", dir.path, "-"], input: CLITests.sample)
        #expect(imp.status == 0, "\(imp.stderr)")
        #expect(try stserver(["verify", "--data", dir.path]).status == 0)
        let counts = try stserver(["query", "--data", dir.path, "--format", "csv", "stats count of all by target"]).stdout
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments").filter { $0.hasSuffix(".seg") }
        let name = try #require(segments.first)
        let path = dir.path + "/segments/" + name
        // One byte in the middle of the first target's chunk.
        let segment = try Segment(path: path, verifyBlocks: true)
        let entry = try #require(segment.targets.first.flatMap { segment.entry(for: $0) })
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[Int(entry.chunkOffset) + entry.chunkLength / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        // A reader beside no writer reports the damage and leaves the file where it is.
        let before = try stserver(["verify", "--data", dir.path])
        #expect(before.status == 65 && before.stdout.contains("checksum mismatch") && before.stdout.contains(": 1 failures"), "\(before.stdout)")
        // The next writer to open the store checks every block and sets the segment aside.
        let writer = try stserver(["compact", "--data", dir.path])
        #expect(FileManager.default.fileExists(atPath: dir.path + "/quarantine/" + name), "\(writer.stderr)")

        let verify = try stserver(["verify", "--data", dir.path])
        #expect(verify.status == 65, "\(verify.stdout)")
        let line = verify.stdout.split(separator: "\n").first { $0.hasPrefix("quarantined: ") }.map(String.init) ?? ""
        #expect(line.contains("/quarantine/\(name): runs from 2026-11-21T18:00:"), "\(line)")
        #expect(line.contains(" of 1 target (") && line.contains(") lost; everything else it held is in segments/"), "\(line)")
        #expect(line.contains("checksum mismatch"), "the cause is kept: \(line)")
        #expect(try stserver(["info", "--data", dir.path]).stdout.contains("quarantined: " + dir.path), "info lists it")
        let query = try stserver(["query", "--data", dir.path, "--format", "csv", "stats count of all by target"])
        #expect(query.status == 0)
        #expect(query.stderr.contains("warning: 1 quarantined file left out of this answer: runs from 2026-11-21T18:00:"), "\(query.stderr)")
        #expect(query.stderr.contains(" of 1 target (stserver verify names them)"), "\(query.stderr)")
        // Nine targets answer as before; the one whose chunk was damaged had its runs in that
        // segment alone, and is gone from the answer.
        let old = counts.split(whereSeparator: \.isNewline), new = query.stdout.split(whereSeparator: \.isNewline)
        #expect(old.count == 11 && new.count == 10 && Set(new).isSubset(of: Set(old)), "\(counts)\n\(query.stdout)")
        // Importing the file again stores exactly what was lost, and the answers are whole again.
        let again = try stserver(["import", "--data", dir.path, "-"], input: CLITests.sample)
        #expect(again.status == 0 && again.stdout.contains(" already stored, not stored again"), "\(again.stdout)")
        #expect(try stserver(["query", "--data", dir.path, "--format", "csv", "stats count of all by target"]).stdout == counts)

        // The server says it too: health degraded with the count, the gauge, a warning header.
        let server = try ServerProcess(["--data", dir.path])
        defer { #expect(server.stop() == 0) }
        let health = try await http("GET", server.base.api("/api/v1/health")).json() as? [String: Any]
        #expect(health?["status"] as? String == "degraded" && health?["quarantined"] as? Int == 1, "\(String(describing: health))")
        let metrics = try await http("GET", server.base.api("/metrics")).text
        #expect(metrics.contains("smoketrace_quarantined_files 1"), "\(metrics)")
        let answer = try await http("GET", server.base.api("/api/v1/query", [("q", "stats count of all by target"), ("format", "csv")]))
        let warning = answer.header("X-SmokeTrace-Warning")
        #expect(warning?.hasPrefix("1 quarantined file left out of this answer") == true, "\(String(describing: warning))")
        let remote = try stserver(["query", "--server", server.base.absoluteString, "--format", "csv", "stats count of all by target"])
        #expect(remote.status == 0 && remote.stderr.contains("warning: 1 quarantined file left out of this answer"), "\(remote.stderr)")
    }

    /// A file that yields no trace at all is an error, not "imported 0 results".
    @Test(arguments: [("scamper-json", #"{"type":"cycle-start","list_name":"default","id":0,"hostname":"vm","start_time":1795569680}"#, "no trace in the file"),
                      ("atlas", "\n\n", "no traceroute result in the file")])
    func aFileWithNoTraceIsMalformedInput(_ format: String, _ content: String, _ message: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/empty.json"
        try Data(content.utf8).write(to: URL(fileURLWithPath: file))
        let r = try stserver(["import", "--data", dir.path + "/store", "--format", format, file])
        #expect(r.status == 65, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains(message) && r.stderr.contains("empty.json"), "\(r.stderr)")
    }

    /// A hop that answered from two branches gets a row per address in the per-hop view, so
    /// that their RTTs are not blended; a hop of one address, one row.
    @Test func perHopViewSplitsABranchedHopByAddress() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ProbeTests/Fixtures").path
        for (target, file) in [("ecmp", "tr-ecmp-n.txt"), ("plain", "tr-udp-n.txt")] {
            let r = try stserver(["import", "--data", dir.path, "--format", "traceroute", "--target", target,
                                  "--time", "2026-12-04T10:00:00Z", fixtures + "/" + file])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let split = try stserver(["hops", "--data", dir.path, "--target", "ecmp", "--format", "csv"])
        #expect(split.status == 0, "\(split.stderr)")
        let rows = split.stdout.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.first == ["time", "ttl", "address", "count", "loss", "min", "p50", "p95", "max", "mean", "reply_loss", "silent"])
        let ttl2 = rows.dropFirst().filter { $0[1] == "2" }
        #expect(ttl2.map { String($0[2]) }.sorted() == ["10.99.2.2", "10.99.4.2"] && ttl2.map { String($0[3]) }.sorted() == ["1", "5"])
        let blended = try stserver(["hops", "--data", dir.path, "--target", "ecmp", "--split", "never", "--format", "csv"])
        #expect(blended.stdout.hasPrefix("time,ttl,count,"))
        let plain = try stserver(["hops", "--data", dir.path, "--target", "plain", "--format", "csv"])
        #expect(plain.stdout.hasPrefix("time,ttl,count,") && plain.stdout.split(separator: "\r\n").count == 4)
    }

    @Test func missingInputFileExitsWithNoInput() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let r = try stserver(["import", "--data", dir.path, dir.path + "/nope.json"])
        #expect(r.status == 66)
        #expect(r.stderr.contains("nope.json: cannot open: No such file or directory"))
    }

    /// A mistyped `--data` is an error naming the path; no read command creates a store there.
    @Test(arguments: [["info"], ["verify"], ["compact"], ["query", "stats loss last 1h"], ["export"], ["paths", "--target", "t"],
                      ["changes"], ["hops", "--target", "t"], ["diff", "1", "2"]])
    func aReadCommandOnADirectoryWithoutAStoreExitsWithNoInput(_ command: [String]) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let missing = dir.path + "/stdatta"
        let r = try stserver([command[0], "--data", missing] + command.dropFirst())
        #expect(r.status == 66, "\(command): \(r.stderr)")
        #expect(r.stderr.contains(missing) && r.stderr.contains("no SmokeTrace store"), "\(command): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing), "\(command) created \(missing)")
    }

    @Test(.needsRoot, arguments: ["udp-paris", "icmp", "udp"])
    func traceLoopbackAndStoreTheRun(method: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let r = try stserver(["trace", "127.0.0.1", "--method", method, "--probes", "2", "--max-ttl", "3",
                              "--format", "csv", "--data", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\r\n")
        #expect(lines.first == "ttl,probe,address,rtt_ms,icmp_type,icmp_code,mpls")
        #expect(lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[2] } == ["127.0.0.1", "127.0.0.1"])
        let info = try stserver(["info", "--data", dir.path])
        #expect(info.stdout.contains("runs:         1\n"))
        #expect(info.stdout.contains("probes:       2\n"))
    }

    @Test func aTargetThatLooksLikeAnOptionNeverReachesTheTracer() throws {
        let r = try stserver(["trace", "--method", "icmp", "--", "-n"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("\"-n\" is neither an IP address nor a host name"))
        #expect(r.stdout.isEmpty)
    }

    @Test func importTracerOutputsInEveryFormat() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ProbeTests/Fixtures").path
        let scamper = try stserver(["import", "--data", dir.path, "--format", "scamper-json", fixtures + "/sc-udp-paris-all.json"])
        #expect(scamper.status == 0, "\(scamper.stderr)")
        #expect(scamper.stdout.hasPrefix("imported 1 results: 9 probes, 9 RTT samples"))
        let tr = try stserver(["import", "--data", dir.path, "--format", "traceroute", "--target", "lab",
                               "--time", "2026-11-25T01:20:00Z", fixtures + "/tr-silent-n.txt"])
        #expect(tr.stdout.hasPrefix("imported 1 results: 9 probes, 6 RTT samples"))
        let mtr = try stserver(["import", "--data", dir.path, "--format", "mtr-raw", "--destination", "10.99.3.2", "--target", "lab-mtr",
                                fixtures + "/mtr-raw.txt"])
        #expect(mtr.stdout.hasPrefix("imported 1 results: 6 probes, 6 RTT samples"))
        let missing = try stserver(["import", "--data", dir.path, "--format", "mtr-raw", fixtures + "/mtr-raw.txt"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("mtr-raw needs --destination"))
        let report = try stserver(["import", "--data", dir.path, "--format", "mtr-report", "--destination", "10.99.3.2", "--target", "lab-report",
                                   fixtures + "/mtr-report-silent-loss-n.txt"])
        #expect(report.stdout.hasPrefix("imported 1 results (1 reports): 60 probes, 0 RTT samples"), "\(report.stdout) \(report.stderr)")
        let json = try stserver(["import", "--data", dir.path, "--format", "mtr-json", "--target", "lab-report",
                                 "--time", "2026-12-04T19:02:00Z", fixtures + "/mtr-json-silent-loss.txt"])
        #expect(json.stdout.hasPrefix("imported 1 results (1 reports): 60 probes, 0 RTT samples"), "\(json.stdout) \(json.stderr)")
        let noDestination = try stserver(["import", "--data", dir.path, "--format", "mtr-report", fixtures + "/mtr-report-ecmp-n.txt"])
        #expect(noDestination.status == 64 && noDestination.stderr.contains("mtr-report needs --destination ADDRESS"))
        let names = try stserver(["import", "--data", dir.path, "--format", "mtr-report", "--destination", "10.99.3.2",
                                  fixtures + "/mtr-report-ecmp-names.txt"])
        #expect(names.status == 65 && names.stderr.contains("mtr-report-ecmp-names.txt:3:9: host \"r1.lab.test\" is not an address"), "\(names.stderr)")
        let warts = try stserver(["import", "--data", dir.path, "--format", "warts", "--target", "lab-warts",
                                  fixtures + "/sc-trace-and-tracelb.warts"])
        #expect(warts.status == 0 && warts.stdout.hasPrefix("imported 1 results: 4 probes, 2 RTT samples"), "\(warts.stdout) \(warts.stderr)")
        #expect(warts.stderr.contains("sc-trace-and-tracelb.warts: 1 warts objects of type 7 (not traces) not read"))
        #expect(warts.stderr.contains("sc-trace-and-tracelb.warts: 1 warts objects of type 8 (not traces) not read"))
        let notWarts = try stserver(["import", "--data", dir.path, "--format", "warts", fixtures + "/sc-udp-paris.json"])
        #expect(notWarts.status == 65 && notWarts.stderr.contains("sc-udp-paris.json") && notWarts.stderr.contains("not a warts object"), "\(notWarts.stderr)")
        let cut = try stserver(["import", "--data", dir.path, "--format", "traceroute", "--target", "lab-cut",
                                fixtures + "/tr-interrupted-n.txt"])
        #expect(cut.stdout.hasPrefix("imported 1 results (1 interrupted): 4 probes, 3 RTT samples"), "\(cut.stdout)")
        let bad = try stserver(["import", "--data", dir.path, "--format", "traceroute", "-"], input: Data(" 1  10.0.0.1  abc ms\n".utf8))
        #expect(bad.status == 65)
        #expect(bad.stderr == "stserver: -:1:15: expected '*', an address, a time in ms or an annotation, found \"abc\"\n")
        let info = try stserver(["info", "--data", dir.path, "--targets"])
        #expect(info.stdout == "10.99.3.2\nlab\nlab-mtr\nlab-report\nlab-warts\nlab-cut\n")
    }
}

import Foundation
import Testing

/// `stserver query`, `export` and `targets` as a user runs them.
@Suite struct QueryCLITests {
    @Test func queryExportAndExitCodes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let imp = try stserver(["import", "--data", dir.path, "-"], input: CLITests.sample)
        #expect(imp.status == 0, "\(imp.stderr)")

        let q = try stserver(["query", "--data", dir.path, "--format", "csv",
                              "stats count, loss of t0003.targets.example.net hops 1..2 step 1h using raw"])
        #expect(q.status == 0, "\(q.stderr)")
        #expect(q.stdout == """
            target,time,ttl,count,loss\r
            t0003.targets.example.net,2026-11-21T18:00:00Z,1,180,0\r
            t0003.targets.example.net,2026-11-21T18:00:00Z,2,180,1.111\r
            t0003.targets.example.net,2026-11-21T19:00:00Z,1,180,0\r
            t0003.targets.example.net,2026-11-21T19:00:00Z,2,180,0.556\r

            """)
        // The same numbers from rollups; the plan says which it read.
        let explain = try stserver(["query", "--data", dir.path, "--explain", "stats count, loss of t0003.targets.example.net step 1h"])
        #expect(explain.stdout.hasPrefix("stats over 1 target(s) from 1h rollups\n"))
        // Query text from standard input; relative times from the newest data.
        let stdin = try stserver(["query", "--data", dir.path, "--at", "newest", "--format", "json", "-"],
                                 input: Data("targets of target ~ \"t000[12]\" # two of them\n".utf8))
        #expect(stdin.stdout == """
            [
              {"target": "t0001.targets.example.net", "group": "", "tags": ""},
              {"target": "t0002.targets.example.net", "group": "", "tags": ""}
            ]

            """)
        let last = try stserver(["query", "--data", dir.path, "--at", "newest", "--format", "csv", "stats count of t0003.targets.example.net hop 1 last 30m"])
        #expect(last.stdout == "target,ttl,count\r\nt0003.targets.example.net,1,90\r\n")

        let bad = try stserver(["query", "--data", dir.path, "stats p95 where"])
        #expect(bad.status == 65)
        #expect(bad.stderr == "stserver: 1:16: expected a column name, 'not' or '(', found the end of the query\n")
        let unknown = try stserver(["query", "--data", dir.path, "stats p95 of nowhere"])
        #expect(unknown.status == 66)

        // The path change of the sample, hop by hop: the first changed TTL is the event's.
        let changes = try stserver(["query", "--data", dir.path, "--format", "csv", "changes"])
        let event = try #require(changes.stdout.split(separator: "\r\n").dropFirst().first).split(separator: ",")
        let diff = try stserver(["diff", "--data", dir.path, String(event[3]), String(event[4]), "--format", "csv"])
        #expect(diff.status == 0, "\(diff.stderr)")
        let rows = diff.stdout.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.first { $0[3] != "same" && $0[3] != "silent" }?[0] == event[5])
        #expect(rows.count == Int(max(Int(event[6]) ?? 0, Int(event[7]) ?? 0)))
        #expect(try stserver(["diff", "--data", dir.path, "1", "99999"]).status == 66)

        // Export: one row per probe sent, to a file.
        let file = dir.path + "/out.csv"
        let exp = try stserver(["export", "--data", dir.path, "--target", "t0003.targets.example.net", "-o", file])
        #expect(exp.status == 0, "\(exp.stderr)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let lines = text.split(separator: "\r\n")
        #expect(lines.first == "target,start,ttl,probe,address,rtt_us")
        #expect(lines.count == 1 + 120 * 11 * 3)
        // Lost probes have empty address and RTT: as many as the Atlas results' "x": "*" replies.
        var stars = 0
        for line in CLITests.sample.split(separator: 0x0A) {
            guard let r = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  r["dst_name"] as? String == "t0003.targets.example.net", let hops = r["result"] as? [[String: Any]] else { continue }
            for h in hops { stars += (h["result"] as? [[String: Any]])?.filter { $0["x"] as? String == "*" }.count ?? 0 }
        }
        #expect(stars > 700)
        #expect(lines.filter { $0.hasSuffix(",,") }.count == stars)
    }

    @Test func targetsFileEditing() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.path + "/targets.yaml"
        try "defaults: { interval: 60s }\ngroups:\n  - name: core\n    tags: [dc1]\n    targets:\n      - { name: gw, address: 192.0.2.1 }\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let add = try stserver(["targets", "add", "--config", file, "core/edge/peer", "198.51.100.7", "--method", "icmp-paris", "--tags", "peer"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout == "added core/edge/peer; 2 targets in \(file)\n")
        let list = try stserver(["targets", "list", "--config", file, "--format", "csv"])
        #expect(list.stdout == """
            target,address,tool,method,interval_s,probes,max_ttl,tags\r
            core/gw,192.0.2.1,native,udp-paris,60,3,30,dc1\r
            core/edge/peer,198.51.100.7,native,icmp-paris,60,3,30,"dc1,peer"\r

            """)
        let dup = try stserver(["targets", "add", "--config", file, "core/gw", "192.0.2.9"])
        #expect(dup.status == 65)
        #expect(dup.stderr == "stserver: \(file): target core/gw exists already\n")
        let option = try stserver(["targets", "add", "--config", file, "core/x", "--", "-oProxyCommand=x"])
        #expect(option.status == 65)
        let rm = try stserver(["targets", "remove", "--config", file, "core/gw"])
        #expect(rm.status == 0)
        let missing = try stserver(["targets", "remove", "--config", file, "core/gw"])
        #expect(missing.status == 66)
        let after = try stserver(["targets", "list", "--config", file, "--format", "csv"])
        #expect(after.stdout.split(separator: "\r\n").count == 2)
    }
}

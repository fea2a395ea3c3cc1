import Alerting
import Foundation
import PathTSDB
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The real server on a loopback port, driven by a real HTTP client: ingest, queries, export,
/// targets, tokens, bounds, metrics, and the OpenAPI document against the routes.
@Suite(.serialized) struct ServerTests {
    static let token = "e2e-token-7f3a"
    static let start = 1_795_132_800  // 2026-11-20T00:00:00Z

    /// Synthetic runs: `runs` per target, a minute apart, four hops of three probes; a probe is
    /// lost when (run + ttl + probe) % 11 == 0.
    struct Probe { var ttl: Int; var address: String?; var rtt: Int? }
    static func runs(_ target: String, count: Int) -> [(start: Int, probes: [Probe])] {
        (0..<count).map { r in
            var probes = [Probe]()
            for ttl in 1...4 {
                for p in 0..<3 {
                    if (r + ttl + p) % 11 == 0 {
                        probes.append(Probe(ttl: ttl, address: nil, rtt: nil))
                    } else {
                        probes.append(Probe(ttl: ttl, address: "10.77.0.\(ttl)", rtt: ttl * 1000 + (r * 7 + p * 13) % 500))
                    }
                }
            }
            return (start + r * 60, probes)
        }
    }

    static func json(_ target: String, _ list: [(start: Int, probes: [Probe])]) -> Data {
        let items = list.map { run -> String in
            let t = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(run.start)))
            let probes = run.probes.map { p in
                p.address.map { "{\"ttl\": \(p.ttl), \"address\": \"\($0)\", \"rtt_us\": \(p.rtt ?? 0)}" } ?? "{\"ttl\": \(p.ttl)}"
            }.joined(separator: ", ")
            return "{\"target\": \"\(target)\", \"vantage\": \"e2e\", \"method\": \"udp-paris\", \"start\": \"\(t)\", \"destination\": \"10.77.0.4\", \"probes\": [\(probes)]}"
        }
        return Data(("[" + items.joined(separator: ",\n") + "]").utf8)
    }

    /// A server on its own data directory, with the test token (and a targets file when given).
    final class Running {
        let server: ServerProcess
        let dir: TemporaryDirectory
        var base: URL { server.base }

        init(_ extra: [String] = [], config: String? = nil, rules: String? = nil) throws {
            dir = TemporaryDirectory("smoketrace-server")
            try "# tokens\n\(ServerTests.token)\n".write(toFile: dir.path + "/tokens", atomically: true, encoding: .utf8)
            var args = ["--data", dir.path + "/data", "--token-file", dir.path + "/tokens"] + extra
            if let config {
                try config.write(toFile: dir.path + "/targets.yaml", atomically: true, encoding: .utf8)
                args += ["--config", dir.path + "/targets.yaml"]
            }
            if let rules {
                try rules.write(toFile: dir.path + "/rules.yaml", atomically: true, encoding: .utf8)
                args += ["--rules", dir.path + "/rules.yaml"]
            }
            do {
                server = try ServerProcess(args)
            } catch {
                dir.remove()
                throw error
            }
        }

        /// Stops the server (checking it exits cleanly) and removes its directory.
        func finish() {
            #expect(server.stop() == 0, "the server exits cleanly on SIGTERM")
            dir.remove()
        }
    }

    /// Every run is stored once: a POST sent again (its answer lost, say) stores nothing and
    /// says so; with an Idempotency-Key the retry gets the first answer back, and the key on
    /// another body is refused.
    @Test func aRetriedPostStoresNothingTwice() async throws {
        let server = try Running()
        defer { server.finish() }
        let url = server.base.api("/api/v1/runs")
        let first = Self.runs("once/a", count: 30)
        let body = Self.json("once/a", first)
        #expect(try await http("POST", url, body: body, token: Self.token).json() as? [String: Int] == ["runs": 30, "probes": 360, "duplicates": 0])
        #expect(try await http("POST", url, body: body, token: Self.token).json() as? [String: Int] == ["runs": 0, "probes": 0, "duplicates": 30])
        // Half old, half new: only the new half is stored.
        let overlapping = Self.json("once/a", Array(first[15...]) + Self.runs("once/a", count: 45)[30...])
        #expect(try await http("POST", url, body: overlapping, token: Self.token).json() as? [String: Int] == ["runs": 15, "probes": 180, "duplicates": 15])

        let keyed = Self.json("once/b", Self.runs("once/b", count: 10))
        let key = ["Idempotency-Key": "\"batch-0001\""]
        let answer = try await http("POST", url, body: keyed, token: Self.token, headers: key)
        #expect(answer.status == 200 && answer.header("Idempotent-Replayed") == nil)
        #expect(try answer.json() as? [String: Int] == ["runs": 10, "probes": 120, "duplicates": 0])
        let replayed = try await http("POST", url, body: keyed, token: Self.token, headers: key)
        #expect(replayed.status == 200 && replayed.body == answer.body, "the first answer, not a count of duplicates")
        #expect(replayed.header("Idempotent-Replayed") == "true")
        let reused = try await http("POST", url, body: Self.json("once/c", Self.runs("once/c", count: 2)), token: Self.token, headers: key)
        #expect(reused.status == 422, "\(reused.text)")
        let malformed = try await http("POST", url, body: keyed, token: Self.token, headers: ["Idempotency-Key": ""])
        #expect(malformed.status == 400)

        let counts = try await http("GET", server.base.api("/api/v1/query", [("q", "stats count of group once by target"), ("format", "csv")]))
        #expect(counts.text == "target,count\r\nonce/a,540\r\nonce/b,120\r\n", "45 and 10 runs of 12 probes: \(counts.text)")
    }

    @Test func ingestThenQueryAndExport() async throws {
        do {
            let server = try Running()
            defer { server.finish() }
            let a = Self.runs("lab/a", count: 120)
            let posted = try await http("POST", server.base.api("/api/v1/runs"), body: Self.json("lab/a", a), token: Self.token)
            #expect(posted.status == 200)
            #expect(try posted.json() as? [String: Int] == ["runs": 120, "probes": 1440, "duplicates": 0])
            _ = try await http("POST", server.base.api("/api/v1/runs"), body: Self.json("lab/b", Self.runs("lab/b", count: 10)), token: Self.token)

            // Per-hop counts and loss against the same numbers computed here.
            let q = try await http("GET", server.base.api("/api/v1/query", [("q", "stats count, lost, loss, max of lab/a"), ("format", "csv")]))
            #expect(q.status == 200)
            #expect(q.header("X-SmokeTrace-Plan")?.hasPrefix("stats over 1 target(s)") == true)
            var expected = "target,ttl,count,lost,loss,max\r\n"
            for ttl in 1...4 {
                let probes = a.flatMap { $0.probes.filter { $0.ttl == ttl } }
                let lost = probes.filter { $0.rtt == nil }.count
                let max = probes.compactMap(\.rtt).max() ?? 0
                let loss = (Double(lost) / Double(probes.count) * 100 * 1000).rounded() / 1000
                expected += "lab/a,\(ttl),\(probes.count),\(lost),\(formatNumber(loss)),\(formatNumber(Double(max) / 1000))\r\n"
            }
            #expect(q.text == expected)
            // The command line reads the same data beside the running server (the server holds
            // the writer's lock; a reader takes none), and gets the same answer.
            let beside = try stserver(["query", "--data", server.dir.path + "/data", "--format", "csv", "stats count, lost, loss, max of lab/a"])
            #expect(beside.status == 0, "\(beside.stderr)")
            #expect(beside.stdout == expected)

            // As an HTML form sends it: '+' for a space, %2B for a plus sign.
            let form = try #require(URL(string: server.base.absoluteString + "/api/v1/query?q=stats+count+of+lab/a+by+target+from+2026-11-20T00:00:00%2B00:00+to+now&format=csv"))
            #expect(try await http("GET", form).text == "target,count\r\nlab/a,1440\r\n")

            // The command line asks the running server, which holds the data directory.
            let remote = try stserver(["query", "--server", server.base.absoluteString, "--format", "csv", "stats count of lab/a by target"])
            #expect(remote.status == 0, "\(remote.stderr)")
            #expect(remote.stdout == "target,count\r\nlab/a,1440\r\n")
            let remoteBad = try stserver(["query", "--server", server.base.absoluteString, "stats p95 where"])
            #expect(remoteBad.status == 65)
            #expect(remoteBad.stderr.hasSuffix("answered 400: 1:16: expected a column name, 'not' or '(', found the end of the query\n"))
            // A second writer is refused: the server holds the writer's lock.
            let compacting = try stserver(["compact", "--data", server.dir.path + "/data"])
            #expect(compacting.status == 75, "the server holds the directory: \(compacting.stderr)")

            // POSTed query text, JSON answer.
            let byTarget = try await http("POST", server.base.api("/api/v1/query"), body: Data("stats count of group lab by target".utf8))
            struct Row: Decodable, Equatable { var target: String; var count: Int }
            #expect(try JSONDecoder().decode([Row].self, from: byTarget.body) == [Row(target: "lab/a", count: 1440), Row(target: "lab/b", count: 120)])

            // The export: one row per probe sent, lost probes with empty address and RTT, streamed.
            let export = try await http("GET", server.base.api("/api/v1/export", [("target", "lab/a"), ("from", "2026-11-20T00:00:00Z"), ("to", "2026-11-20T00:10:00Z")]))
            #expect(export.status == 200)
            #expect(export.header("Content-Type")?.hasPrefix("text/csv") == true)
            #expect(export.header("Content-Length") == nil, "streamed, not sized up front")
            let lines = export.text.split(separator: "\r\n").map(String.init)
            #expect(lines.first == "target,start,ttl,probe,address,rtt_us")
            var rows = [String]()
            for run in a.prefix(10) {
                let t = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(run.start)))
                var index = [Int: Int]()
                for p in run.probes {
                    index[p.ttl, default: 0] += 1
                    rows.append("lab/a,\(t),\(p.ttl),\(index[p.ttl] ?? 0),\(p.address ?? ""),\(p.rtt.map(String.init) ?? "")")
                }
            }
            #expect(Array(lines.dropFirst()) == rows)
        }
    }

    @Test func tokensGuardWritesOnly() async throws {
        do {
            let server = try Running()
            defer { server.finish() }
            let body = Self.json("lab/a", Self.runs("lab/a", count: 1))
            let none = try await http("POST", server.base.api("/api/v1/runs"), body: body)
            #expect(none.status == 401)
            #expect(none.header("WWW-Authenticate") == "Bearer realm=\"smoketrace\"")
            let wrong = try await http("POST", server.base.api("/api/v1/runs"), body: body, token: "not-the-token")
            #expect(wrong.status == 401)
            #expect(wrong.header("WWW-Authenticate")?.contains("invalid_token") == true)
            let notBearer = try await http("POST", server.base.api("/api/v1/runs"), body: body, headers: ["Authorization": "Basic \(Self.token)"])
            #expect(notBearer.status == 401)
            #expect(try await http("POST", server.base.api("/api/v1/reload"), body: Data()).status == 401)
            #expect(try await http("DELETE", server.base.api("/api/v1/targets/x")).status == 401)
            // Reads are open by default, and nothing was written by the refused requests.
            let q = try await http("GET", server.base.api("/api/v1/query", [("q", "targets")]))
            #expect(q.status == 200)
            #expect(q.text == "[]\n")
        }
        do {
            let server = try Running(["--private-reads"])
            defer { server.finish() }
            #expect(try await http("GET", server.base.api("/api/v1/query", [("q", "targets")])).status == 401)
            #expect(try await http("GET", server.base.api("/metrics")).status == 401)
            #expect(try await http("GET", server.base.api("/api/v1/query", [("q", "targets")]), token: Self.token).status == 200)
            #expect(try await http("GET", server.base.api("/api/v1/health")).status == 200)
        }
    }

    @Test func badRequestsGetClearErrors() async throws {
        do {
            let server = try Running(["--max-body", "4096", "--max-rows", "5"])
            defer { server.finish() }
            _ = try await http("POST", server.base.api("/api/v1/runs"), body: Self.json("lab/a", Self.runs("lab/a", count: 2)), token: Self.token)
            struct Failure: Decodable, Equatable { var error: String; var line: Int?; var column: Int? }
            func error(_ a: HTTPAnswer) throws -> [String: Any] { try a.json() as? [String: Any] ?? [:] }
            func failure(_ a: HTTPAnswer) throws -> Failure { try JSONDecoder().decode(Failure.self, from: a.body) }

            let malformed = try await http("GET", server.base.api("/api/v1/query", [("q", "stats p95,\n  lossy")]))
            #expect(malformed.status == 400)
            #expect(try failure(malformed) == Failure(error: "expected an aggregate (count, answered, lost, loss, reply_loss, silent, min, max, mean, stddev, jitter, median or pNN such as p95), found 'lossy'", line: 2, column: 3))
            let unknown = try await http("GET", server.base.api("/api/v1/query", [("q", "stats p95 of nowhere")]))
            #expect(unknown.status == 404)
            let missing = try await http("GET", server.base.api("/api/v1/query"))
            #expect(missing.status == 400)
            let tooMany = try await http("GET", server.base.api("/api/v1/query", [("q", "probes")]))
            #expect(tooMany.status == 422)
            #expect(try error(tooMany)["error"] as? String == "the answer has more than 5 rows; narrow the query or add 'limit'")
            #expect(try await http("GET", server.base.api("/api/v1/query", [("q", "probes limit 5")])).status == 200)

            let big = Data(repeating: 0x20, count: 5000)
            #expect(try await http("POST", server.base.api("/api/v1/runs"), body: big, token: Self.token).status == 413)
            let longQuery = try await http("POST", server.base.api("/api/v1/query"), body: Data(repeating: 0x20, count: 20_000))
            #expect(longQuery.status == 413)

            let broken = try await http("POST", server.base.api("/api/v1/runs"), body: Data("[{\"target\": \"x\",\n \"start\": 12x}]".utf8), token: Self.token)
            #expect(broken.status == 400)
            #expect(try failure(broken) == Failure(error: "malformed JSON: expected ',' or '}', found 'x'", line: 2, column: 13))
            let wrongShape = try await http("POST", server.base.api("/api/v1/runs"), body: Data("[{\"target\": \"x\"}]".utf8), token: Self.token)
            #expect(try error(wrongShape)["error"] as? String == "malformed JSON: [0].start: missing")
            let badRun = try await http("POST", server.base.api("/api/v1/runs"),
                                        body: Data("{\"target\": \"x\", \"start\": \"2026-11-20T00:00:00Z\", \"destination\": \"10.0.0.1\", \"probes\": [{\"ttl\": 300}]}".utf8),
                                        token: Self.token)
            #expect(try error(badRun)["error"] as? String == "run [0]: probe [0]: ttl 300 is not 1 to 255")
            let noRoute = try await http("GET", server.base.api("/api/v2/nothing"))
            #expect(noRoute.status == 404)
            #expect(try error(noRoute)["error"] as? String == "no such route: GET /api/v2/nothing")
            // A documented path with a method it does not take: 405 and the methods it does.
            let wrongMethod = try await http("DELETE", server.base.api("/api/v1/query"))
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "GET, POST")
            let oddUnicode = try await http("POST", server.base.api("/api/v1/runs"), body: Data(#"[{"target": "\ud800x"}]"#.utf8), token: Self.token)
            #expect(try failure(oddUnicode) == Failure(error: "malformed JSON: a \\u escape holds a lone high surrogate, found '0'", line: 1, column: 19))
            // A name whose bytes are not UTF-8: refused at the byte, with its line and column.
            let notUTF8Name = try await http("POST", server.base.api("/api/v1/runs"),
                                             body: Data(Array(#"[{"target": "ab"#.utf8) + [0xFF, 0xFE] + Array(#"cd"}]"#.utf8)), token: Self.token)
            #expect(try failure(notUTF8Name) == Failure(error: "malformed JSON: invalid UTF-8 in a string: byte 0xff cannot start a character", line: 1, column: 16))
            let negativeFlow = try await http("POST", server.base.api("/api/v1/runs"),
                                              body: Data(#"{"target": "x", "flow": -5, "start": "2026-11-20T00:00:00Z", "destination": "10.0.0.1", "probes": []}"#.utf8), token: Self.token)
            #expect(try error(negativeFlow)["error"] as? String == "run [0]: flow -5 is not 0 to 65535")
            // A percent-escape that is not UTF-8 is refused, not passed on half-decoded.
            var notUTF8 = try #require(URLComponents(url: server.base.api("/api/v1/query"), resolvingAgainstBaseURL: false))
            notUTF8.percentEncodedQuery = "q=stats%C3%28"
            let badEscape = try await http("GET", try #require(notUTF8.url))
            #expect(badEscape.status == 400)
            #expect(try error(badEscape)["error"] as? String == "query string: q= holds a malformed percent-escape (%XX, UTF-8)")
            let badFormat = try await http("GET", server.base.api("/api/v1/query", [("q", "targets"), ("format", "xml")]))
            #expect(try error(badFormat)["error"] as? String == "format=xml: expected json, csv or table")

            // Nothing of the refused requests reached the store.
            let count = try await http("GET", server.base.api("/api/v1/query", [("q", "stats count by target"), ("format", "csv")]))
            #expect(count.text == "target,count\r\nlab/a,24\r\n")
        }
        do {
            // Numbers and nesting that once killed the process: each a clear 400, and the server lives.
            let server = try Running([])
            defer { server.finish() }
            struct Failure: Decodable, Equatable { var error: String; var line: Int?; var column: Int? }
            let longAgo = try await http("GET", server.base.api("/api/v1/query", [("q", "stats loss last 20000000w")]))
            #expect(try JSONDecoder().decode(Failure.self, from: longAgo.body) == Failure(error: "duration '20000000w' is longer than 1000 years", line: 1, column: 17))
            let deep = Data(("{\"dst_addr\":\"192.0.2.1\",\"timestamp\":1,\"x\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}").utf8)
            let deepAtlas = try await http("POST", server.base.api("/api/v1/runs", [("format", "atlas")]), body: deep, token: Self.token)
            #expect(deepAtlas.status == 400)
            #expect(try JSONDecoder().decode(Failure.self, from: deepAtlas.body).error.contains("nested deeper than 128 levels"))
            let deepJSON = try await http("POST", server.base.api("/api/v1/runs"), body: Data(String(repeating: "[", count: 100_000).utf8), token: Self.token)
            #expect(deepJSON.status == 400)
            #expect(try await http("GET", server.base.api("/api/v1/health")).status == 200)
        }
        do {
            let server = try Running(["--query-timeout", "0s"])
            defer { server.finish() }
            _ = try await http("POST", server.base.api("/api/v1/runs"), body: Self.json("lab/a", Self.runs("lab/a", count: 2)), token: Self.token)
            let late = try await http("GET", server.base.api("/api/v1/query", [("q", "stats p95 using raw")]))
            #expect(late.status == 503)
        }
    }

    static let targetsFile = """
        defaults: { interval: 300s, probes: 1, max_ttl: 2, wait: 1s }
        groups:
          - name: lab
            tags: [e2e]
            targets:
              - { name: loop, address: 127.0.0.1, method: icmp-paris }
        """

    @Test func targetsAreManagedInTheTargetsFile() async throws {
        do {
            let server = try Running(config: Self.targetsFile)
            let dir = server.dir
            defer { server.finish() }
            let list = try await http("GET", server.base.api("/api/v1/targets"))
            #expect((try list.json() as? [[String: Any]])?.map { $0["name"] as? String } == ["lab/loop"])
            let spec = Data("{\"name\": \"lab/edge/peer\", \"address\": \"127.0.0.2\", \"interval\": \"60s\", \"tags\": [\"peer\"]}".utf8)
            let added = try await http("POST", server.base.api("/api/v1/targets"), body: spec, token: Self.token)
            #expect(added.status == 201)
            let view = try added.json() as? [String: Any]
            #expect(view?["name"] as? String == "lab/edge/peer")
            #expect(view?["interval_s"] as? Double == 60)
            #expect(view?["tags"] as? [String] == ["e2e", "peer"])
            #expect(try await http("POST", server.base.api("/api/v1/targets"), body: spec, token: Self.token).status == 409)
            let bad = try await http("POST", server.base.api("/api/v1/targets"),
                                     body: Data("{\"name\": \"lab/x\", \"address\": \"-oProxy\"}".utf8), token: Self.token)
            #expect(bad.status == 400)
            let changed = try await http("PUT", server.base.api("/api/v1/targets/lab/edge/peer"),
                                         body: Data("{\"name\": \"ignored\", \"address\": \"127.0.0.3\", \"method\": \"udp\"}".utf8), token: Self.token)
            #expect(changed.status == 200)
            #expect((try changed.json() as? [String: Any])?["address"] as? String == "127.0.0.3")
            // The file on disk says the same, and a tag query sees the new target.
            let onDisk = try String(contentsOfFile: dir.path + "/targets.yaml", encoding: .utf8)
            #expect(onDisk.contains("address: 127.0.0.3"))
            let tagged = try await http("GET", server.base.api("/api/v1/query", [("q", "targets of tag e2e")]))
            #expect(tagged.status == 200)
            #expect(try await http("DELETE", server.base.api("/api/v1/targets/lab/edge/peer"), token: Self.token).status == 204)
            #expect(try await http("DELETE", server.base.api("/api/v1/targets/lab/edge/peer"), token: Self.token).status == 404)
            let after = try await http("GET", server.base.api("/api/v1/targets"))
            #expect((try after.json() as? [[String: Any]])?.count == 1)
            let health = try await http("GET", server.base.api("/api/v1/health"))
            #expect((try health.json() as? [String: Any])?["targets"] as? Int == 1)
        }
    }

    @Test(.needsRoot) func theServerTracesItsTargetsAndAnswersFromThem() async throws {
        let server = try Running(config: """
            defaults: { interval: 1s, probes: 2, max_ttl: 3, wait: 1s }
            groups:
              - name: loop
                targets:
                  - { name: v4, address: 127.0.0.1, method: udp-paris, hop_metrics: true }
                  - { name: v6, address: "::1", method: icmp-paris }
            """)
        defer { server.finish() }
        // Wait (up to 20 s) until the monitor has stored a few runs of each target.
        let deadline = ContinuousClock.now + .seconds(20)
        var stored = 0
        while stored < 4 && ContinuousClock.now < deadline {
            let health = try await http("GET", server.base.api("/api/v1/health"))
            stored = ((try health.json() as? [String: Any])?["monitor"] as? [String: Any])?["stored"] as? Int ?? 0
            if stored < 4 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(stored >= 4)
        let answer = try await http("GET", server.base.api("/api/v1/query", [("q", "stats count, loss, max of group loop by target"), ("format", "csv")]))
        #expect(answer.status == 200)
        let rows = answer.text.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",") }
        #expect(rows.map { String($0[0]) } == ["loop/v4", "loop/v6"])
        // Loopback answers every probe, within a second.
        for r in rows {
            #expect((Int(r[1]) ?? 0) >= 2 && r[2] == "0" && (Double(r[3]) ?? 1000) < 1000, "\(r)")
        }
        let paths = try await http("GET", server.base.api("/api/v1/paths", [("target", "loop/v4"), ("format", "csv")]))
        #expect(paths.text.contains(",127.0.0.1\r\n"))
        // Per-target series for Prometheus: every destination probe answered, and timed.
        let metrics = try await http("GET", server.base.api("/metrics")).text
        func value(_ series: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        let sent = try #require(value("smoketrace_target_probes_sent_total{target=\"loop/v4\"}"), "\(metrics)")
        #expect(sent >= 2 && sent.truncatingRemainder(dividingBy: 2) == 0, "two probes a run at the destination's TTL")
        #expect(value("smoketrace_target_probes_lost_total{target=\"loop/v4\"}") == 0)
        #expect(value("smoketrace_target_rtt_seconds_count{target=\"loop/v4\"}") == sent)
        #expect(value("smoketrace_target_rtt_seconds_bucket{target=\"loop/v4\",le=\"+Inf\"}") == sent)
        #expect(value("smoketrace_target_reached{target=\"loop/v4\"}") == 1)
        #expect(value("smoketrace_target_hops{target=\"loop/v4\"}") == 1)
        #expect((value("smoketrace_target_path_id{target=\"loop/v6\"}") ?? 0) >= 1)
        #expect(value("smoketrace_target_path_changes_24h{target=\"loop/v4\"}") == 0)
        // Per-hop series for the target that asks for them (loopback: one hop, the destination).
        let hopSent = try #require(value("smoketrace_hop_probes_sent_total{target=\"loop/v4\",ttl=\"1\"}"), "\(metrics)")
        #expect(hopSent >= sent && value("smoketrace_hop_responders{target=\"loop/v4\",ttl=\"1\"}") == 1)
        #expect(!metrics.contains("smoketrace_hop_probes_sent_total{target=\"loop/v6\""))
    }

    @Test func openAPIDocumentMatchesTheRoutes() async throws {
        do {
            let server = try Running(config: Self.targetsFile, rules: Self.unreachableRule)
            defer { server.finish() }
            let doc = try #require(try await http("GET", server.base.api("/api/v1/openapi.json")).json() as? [String: Any])
            // A run of now that did not reach its destination: the rule fires on it.
            let alert = try await Self.firingAlert(server)
            #expect(doc["openapi"] as? String == "3.1.0")
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
            _ = try await http("POST", server.base.api("/api/v1/runs"), body: Self.json("lab/a", Self.runs("lab/a", count: 3)), token: Self.token)
            // A path of lab/a, for the diff page (compared with itself).
            let pathsCSV = try await http("GET", server.base.api("/api/v1/paths", [("target", "lab/a"), ("format", "csv")]), token: Self.token).text
            let firstPath = String(pathsCSV.split(separator: "\n").dropFirst().first?.split(separator: ",").dropFirst().first ?? "1")
            // A browser's session, for the web forms.
            let session = try await AlertPageTests.signIn(server)
            // One working request per documented operation.
            let spec = Data("{\"name\": \"lab/new\", \"address\": \"127.0.0.5\"}".utf8)
            let examples: [String: (URL, Data?)] = [
                "GET /": (server.base.api("/"), nil),
                "GET /metrics": (server.base.api("/metrics"), nil),
                "GET /api/v1/openapi.json": (server.base.api("/api/v1/openapi.json"), nil),
                "GET /api/v1/openapi.yaml": (server.base.api("/api/v1/openapi.yaml"), nil),
                "GET /api/v1/health": (server.base.api("/api/v1/health"), nil),
                "GET /api/v1/query": (server.base.api("/api/v1/query", [("q", "stats p95")]), nil),
                "POST /api/v1/query": (server.base.api("/api/v1/query"), Data("paths".utf8)),
                "GET /api/v1/export": (server.base.api("/api/v1/export", [("target", "lab/a")]), nil),
                "GET /api/v1/paths": (server.base.api("/api/v1/paths", [("target", "lab/a")]), nil),
                "GET /api/v1/changes": (server.base.api("/api/v1/changes", [("group", "lab")]), nil),
                "GET /api/v1/targets": (server.base.api("/api/v1/targets"), nil),
                "POST /api/v1/targets": (server.base.api("/api/v1/targets"), spec),
                "PUT /api/v1/targets/{name}": (server.base.api("/api/v1/targets/lab/new"), spec),
                "DELETE /api/v1/targets/{name}": (server.base.api("/api/v1/targets/lab/new"), nil),
                "POST /api/v1/reload": (server.base.api("/api/v1/reload"), Data()),
                "POST /api/v1/runs": (server.base.api("/api/v1/runs"), Self.json("lab/b", Self.runs("lab/b", count: 1))),
                "GET /api/v1/alerts": (server.base.api("/api/v1/alerts"), nil),
                "GET /api/v1/alerts/history": (server.base.api("/api/v1/alerts/history"), nil),
                "POST /api/v1/alerts/{id}/ack": (server.base.api("/api/v1/alerts/\(alert)/ack"), Data("{\"comment\": \"looking\"}".utf8)),
                "GET /api/v1/rules": (server.base.api("/api/v1/rules"), nil),
                "POST /api/v1/rules": (server.base.api("/api/v1/rules"), Data(#"{"name": "slow", "when": {"rtt_increase": {"by_ms": 50}}}"#.utf8)),
                "PUT /api/v1/rules/{name}": (server.base.api("/api/v1/rules/slow"), Data(#"{"when": {"rtt_increase": {"by_ms": 80}}, "for": "3"}"#.utf8)),
                "DELETE /api/v1/rules/{name}": (server.base.api("/api/v1/rules/slow"), nil),
                "GET /api/v1/silences": (server.base.api("/api/v1/silences"), nil),
                "POST /api/v1/silences": (server.base.api("/api/v1/silences"), Data("{\"matchers\": {\"target\": \"lab/x\"}, \"duration\": \"1h\"}".utf8)),
                "DELETE /api/v1/silences/{id}": (server.base.api("/api/v1/silences/1"), nil),
                "GET /api/v1/receivers": (server.base.api("/api/v1/receivers"), nil),
                "GET /targets": (server.base.api("/targets"), nil),
                "GET /diff": (server.base.api("/diff", [("target", "lab/a"), ("old", firstPath), ("new", firstPath)]), nil),
                "GET /targets/{name}": (server.base.api("/targets/lab/a", [("range", "30d")]), nil),
                "GET /alerts": (server.base.api("/alerts"), nil),
                "GET /reports": (server.base.api("/reports", [("group", "lab"), ("period", "week"), ("end", "2026-11-21T00:00:00Z")]), nil),
                "GET /console": (server.base.api("/console", [("q", "stats p50 of \"lab/a\" by ttl"), ("at", "newest")]), nil),
                "GET /login": (server.base.api("/login"), nil),
                "POST /login": (server.base.api("/login"), AlertPageTests.form([("token", Self.token)])),
                "POST /alerts/{id}/ack": (server.base.api("/alerts/\(alert)/ack"), AlertPageTests.form([("csrf", session.csrf)])),
                "POST /alerts/{id}/silence": (server.base.api("/alerts/\(alert)/silence"), AlertPageTests.form([("csrf", session.csrf), ("duration", "1h")])),
                "POST /logout": (server.base.api("/logout"), AlertPageTests.form([("csrf", session.csrf)])),
            ]
            var documented = [String]()
            for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
                for method in ["get", "post", "put", "delete"] {
                    guard item[method] is [String: Any] else { continue }
                    documented.append("\(method.uppercased()) \(path)")
                }
            }
            #expect(Set(documented) == Set(examples.keys), "every documented operation has an example, and no more")
            for key in ["GET /", "GET /metrics", "GET /api/v1/openapi.json", "GET /api/v1/openapi.yaml", "GET /api/v1/health", "GET /api/v1/query", "POST /api/v1/query",
                        "GET /api/v1/export", "GET /api/v1/paths", "GET /api/v1/changes", "GET /api/v1/targets", "POST /api/v1/targets",
                        "PUT /api/v1/targets/{name}", "DELETE /api/v1/targets/{name}", "POST /api/v1/reload", "POST /api/v1/runs",
                        "GET /api/v1/alerts", "GET /api/v1/alerts/history", "POST /api/v1/alerts/{id}/ack", "GET /api/v1/rules",
                        "POST /api/v1/rules", "PUT /api/v1/rules/{name}", "DELETE /api/v1/rules/{name}",
                        "GET /api/v1/silences", "POST /api/v1/silences", "DELETE /api/v1/silences/{id}", "GET /api/v1/receivers",
                        "GET /targets", "GET /targets/{name}", "GET /diff",
                        "GET /alerts", "GET /reports", "GET /console", "GET /login", "POST /login", "POST /alerts/{id}/ack", "POST /alerts/{id}/silence", "POST /logout"] {
                guard let (url, body) = examples[key] else { continue }
                let parts = key.split(separator: " ")
                let method = String(parts[0]), path = String(parts[1])
                // A form is sent as a browser sends it: its session cookie, no bearer token; and
                // its 303 is the answer, not the page it leads to.
                let form = key.hasPrefix("POST /alerts/") || key == "POST /logout" || key == "POST /login"
                let answer = try await http(method, url, body: body, token: form ? nil : Self.token,
                                            headers: form ? ["Cookie": session.cookie] : [:], followRedirects: !form)
                let op = try #require(paths[path]?[method.lowercased()] as? [String: Any])
                let responses = try #require(op["responses"] as? [String: Any])
                #expect(responses.keys.contains(String(answer.status)) && (answer.status < 300 || form && answer.status == 303),
                        "\(key) answered \(answer.status): \(answer.text)")
                // Where the document names an object schema, the answer has its required fields.
                let content = ((responses[String(answer.status)] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any]
                if answer.header("Content-Type")?.hasPrefix("application/json") == true,
                   let ref = (content?["schema"] as? [String: Any])?["$ref"] as? String,
                   let schema = schemas[String(ref.split(separator: "/").last ?? "")],
                   let required = schema["required"] as? [String] {
                    let object = try answer.json() as? [String: Any]
                    for field in required { #expect(object?[field] != nil, "\(key): \(field) missing from \(answer.text)") }
                }
            }
            // The web page of lab/a: its four hops, a graph each, beside the timeline and two heatmaps; a range not understood and a
            // target not stored are said on a page of their own.
            let overview = try await http("GET", server.base.api("/targets"), token: Self.token)
            #expect(overview.text.contains("<a href=\"/targets/lab/a\">lab/a</a>"))
            // A browser at / is sent there (the client follows the 303); a program still gets text.
            let browser = try await http("GET", server.base.api("/"), token: Self.token, headers: ["Accept": "text/html,application/xhtml+xml"])
            #expect(browser.status == 200 && browser.text.contains("<h1>Targets</h1>"))
            #expect(try await http("GET", server.base.api("/"), token: Self.token).text.hasPrefix("SmokeTrace "))
            let page = try await http("GET", server.base.api("/targets/lab/a", [("range", "30d")]), token: Self.token)
            #expect(page.text.contains("<td>10.77.0.4</td>") && page.text.components(separatedBy: "<svg ").count - 1 == 7, "\(page.text)")
            #expect(try await http("GET", server.base.api("/targets/lab/a", [("range", "2w")]), token: Self.token).status == 400)
            // A page of a fixed range is the same until the data changes: its ETag gets a 304.
            let fixed = server.base.api("/targets/lab/a", [("from", "2026-11-20T00:00:00Z"), ("to", "2026-11-20T06:00:00Z")])
            let first = try await http("GET", fixed, token: Self.token)
            let tag = try #require(first.headers["Etag"] ?? first.headers["ETag"])
            let again = try await http("GET", fixed, token: Self.token, headers: ["If-None-Match": tag])
            #expect(again.status == 304 && again.body.isEmpty, "\(again.status)")
            #expect(try await http("GET", fixed, token: Self.token, headers: ["If-None-Match": "W/\"0-0\""]).status == 200)
            #expect(try await http("GET", server.base.api("/targets/lab/nothing"), token: Self.token).status == 404)
            // The report of the week of lab/a's runs, as CSV.
            let report = try await http("GET", server.base.api("/reports", [("group", "lab"), ("period", "week"), ("end", "2026-11-21T00:00:00Z"),
                                                                             ("format", "csv")])).text
            #expect(report.hasPrefix("target,changes,loss_before,loss_now,median_before_ms,median_now_ms,worse_hops,missed\r\nlab/a,"), "\(report)")
            #expect(try await http("GET", server.base.api("/reports", [("period", "year")])).status == 400)
            // The console: lab/a's hops answered on the page.
            let console = try await http("GET", server.base.api("/console", [("q", "stats p50 of \"lab/a\" by ttl"), ("at", "newest")])).text
            #expect(console.contains("<td>4</td>") && console.contains("4 rows"), "\(console)")

            // Every page is its data as JSON too: by format=json, or by Accept.
            let list = try await http("GET", server.base.api("/targets", [("format", "json")]), token: Self.token)
            #expect(list.header("Content-Type") == "application/json")
            let rows = try #require((try list.json() as? [String: Any])?["targets"] as? [[String: Any]])
            let a = try #require(rows.first { $0["name"] as? String == "lab/a" })
            // Its runs are of 2026-11-20: none in the last 24 hours.
            #expect(a["group"] as? String == "lab" && a["runs"] as? Int == 0 && a["state"] as? String == "no runs", "\(a)")
            let data = try await http("GET", server.base.api("/targets/lab/a", [("range", "30d")]), token: Self.token,
                                      headers: ["Accept": "application/json"])
            let pageData = try #require(try data.json() as? [String: Any])
            let hops = try #require(pageData["hops"] as? [[String: Any]])
            #expect(hops.contains { $0["address"] as? String == "10.77.0.4" && $0["silent"] as? Bool == false }, "\(hops)")
            #expect((pageData["smoke"] as? [[String: Any]])?.count == 4 && (pageData["timeline"] as? [[String: Any]])?.count == 1)
            let diffData = try await http("GET", server.base.api("/diff", [("target", "lab/a"), ("old", firstPath), ("new", firstPath), ("format", "json")]),
                                          token: Self.token)
            let diffHops = try #require((try diffData.json() as? [String: Any])?["hops"] as? [[String: Any]])
            #expect(!diffHops.isEmpty && diffHops.allSatisfy { ["same", "silent"].contains($0["change"] as? String) }, "\(diffHops)")
            // Its failures are the API's: JSON with the reason.
            let unknown = try await http("GET", server.base.api("/targets/lab/nothing", [("format", "json")]), token: Self.token)
            let reason = (try unknown.json() as? [String: Any])?["error"] as? String
            #expect(unknown.status == 404 && reason == "The store holds no runs of lab/nothing.")
            let badForm = try await http("GET", server.base.api("/targets", [("format", "xml")]), token: Self.token)
            #expect(badForm.status == 400 && badForm.text.contains("format: expected html or json, not xml"))
        }
    }

    static let unreachableRule = """
        rules:
          - name: unreachable
            when: { destination_unreachable: true }
            severity: critical
        """

    /// Posts a run of now to lab/x that does not reach its destination, and waits (at most
    /// 10 s) for the server's evaluation to raise the alert; returns its id.
    static func firingAlert(_ server: Running) async throws -> Int {
        let now = ISO8601DateFormatter().string(from: Date())
        let run = "{\"target\": \"lab/x\", \"vantage\": \"e2e\", \"method\": \"udp-paris\", \"start\": \"\(now)\", \"destination\": \"10.77.0.9\", \"probes\": [{\"ttl\": 1, \"address\": \"10.77.0.1\", \"rtt_us\": 900}, {\"ttl\": 2}]}"
        let posted = try await http("POST", server.base.api("/api/v1/runs"), body: Data(run.utf8), token: token)
        #expect(posted.status == 200, "\(posted.text)")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let alerts = try await http("GET", server.base.api("/api/v1/alerts")).json() as? [[String: Any]] ?? []
            if let first = alerts.first, let id = first["id"] as? Int {
                #expect(first["rule"] as? String == "unreachable" && first["target"] as? String == "lab/x" && first["state"] as? String == "firing")
                return id
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no alert within 10 s of the run")
        return 0
    }

    @Test func rulesAreManagedThroughTheAPIAndWrittenToTheFile() async throws {
        let server = try Running(rules: Self.unreachableRule)
        defer { server.finish() }
        let file = server.dir.path + "/rules.yaml"
        let add = try await http("POST", server.base.api("/api/v1/rules"), body: Data(#"{"name": "core/slow", "groups": ["core"], "when": {"rtt_increase": {"by_ms": 50}}, "severity": "critical"}"#.utf8), token: Self.token)
        #expect(add.status == 201, "\(add.text)")
        let added = try add.json() as? [String: Any]
        #expect(added?["kind"] as? String == "rtt_increase")
        // In force, and in the file, which reads as the server reads it.
        let names = try await http("GET", server.base.api("/api/v1/rules")).json() as? [[String: Any]]
        #expect(names?.compactMap { $0["name"] as? String } == ["unreachable", "core/slow"])
        let written = try RulesFile.parse(try String(contentsOfFile: file, encoding: .utf8), source: file)
        #expect(written.rules.map(\.name) == ["unreachable", "core/slow"] && written.rules[1].severity == .critical)
        #expect(try await http("POST", server.base.api("/api/v1/rules"), body: Data(#"{"name": "core/slow", "when": {"destination_unreachable": true}}"#.utf8), token: Self.token).status == 409)
        // A bad rule is refused with its position; the file and the rules in force stay.
        let before = try String(contentsOfFile: file, encoding: .utf8)
        let bad = try await http("PUT", server.base.api("/api/v1/rules/core/slow"), body: Data(#"{"when": {"loss": {"percent": 500}}}"#.utf8), token: Self.token)
        #expect(bad.status == 400 && bad.text.contains("percent must be a number from 0 to 100") && bad.text.contains("\"line\": 1"), "\(bad.text)")
        let unchanged = try String(contentsOfFile: file, encoding: .utf8)
        #expect(unchanged == before)
        let put = try await http("PUT", server.base.api("/api/v1/rules/core/slow"), body: Data(#"{"when": {"loss": {"percent": 5}}}"#.utf8), token: Self.token)
        let changed = try put.json() as? [String: Any]
        #expect(put.status == 200 && changed?["kind"] as? String == "loss", "\(put.text)")
        #expect(try await http("DELETE", server.base.api("/api/v1/rules/core/slow"), token: Self.token).status == 204)
        #expect(try await http("DELETE", server.base.api("/api/v1/rules/core/slow"), token: Self.token).status == 404)
        #expect(try await http("POST", server.base.api("/api/v1/rules"), body: Data(#"{"name": "x", "when": {"loss": {"percent": 5}}}"#.utf8)).status == 401)
        let after = try RulesFile.parse(try String(contentsOfFile: file, encoding: .utf8), source: file)
        #expect(after.rules.map(\.name) == ["unreachable"])
    }

    @Test func alertsAreSilencedAndAcknowledgedFromTheCommandLine() async throws {
        let server = try Running(rules: Self.unreachableRule)
        defer { server.finish() }
        let id = try await Self.firingAlert(server)
        let url = server.base.absoluteString, tokens = server.dir.path + "/tokens"
        // The language lists the alert's transitions too.
        let q = try await http("GET", server.base.api("/api/v1/query", [("q", "alerts of lab/x where state = firing"), ("format", "csv")]))
        #expect(q.status == 200 && q.text.contains(",\(id),firing,unreachable,lab/x,,critical,"), "\(q.text)")
        let list = try stserver(["alerts", "list", "--server", url])
        #expect(list.status == 0, "\(list.stderr)")
        let alerts = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(alerts?.first?["id"] as? Int == id && alerts?.first?["rule"] as? String == "unreachable")
        // Writes need the token.
        #expect(try stserver(["alerts", "ack", "--server", url, String(id)]).status == 77)
        let ack = try stserver(["alerts", "ack", "--server", url, "--token-file", tokens, String(id), "--comment", "looking"])
        #expect(ack.status == 0, "\(ack.stderr)")
        let acked = try JSONSerialization.jsonObject(with: Data(try stserver(["alerts", "list", "--server", url]).stdout.utf8)) as? [[String: Any]]
        #expect(acked?.first?["acknowledged"] as? Bool == true)
        #expect(try stserver(["alerts", "ack", "--server", url, "--token-file", tokens, "999"]).status == 66)
        let silence = try stserver(["alerts", "silence", "--server", url, "--token-file", tokens, "target=lab/x", "--for", "1h", "--comment", "works"])
        #expect(silence.status == 0, "\(silence.stderr)")
        let made = try JSONSerialization.jsonObject(with: Data(silence.stdout.utf8)) as? [String: Any]
        #expect(made?["matchers"] as? [String: String] == ["target": "lab/x"] && made?["comment"] as? String == "works")
        let silenceID = try #require(made?["id"] as? Int)
        #expect(try stserver(["alerts", "silences", "--server", url]).stdout.contains("\"works\""))
        #expect(try stserver(["alerts", "unsilence", "--server", url, "--token-file", tokens, String(silenceID)]).status == 0)
        #expect(try stserver(["alerts", "silences", "--server", url]).stdout == "[]\n")
        let bad = try stserver(["alerts", "silence", "--server", url, "--token-file", tokens, "nonsense"])
        #expect(bad.status == 64 && bad.stderr.contains("matcher 'nonsense': expected LABEL=VALUE"), "\(bad.stderr)")
        // Times go out and come in as RFC 3339 text, to the microsecond; other text is refused by field.
        #expect((acked?.first?["since"] as? String).flatMap { RFC3339.parse($0) } != nil, "\(String(describing: acked))")
        let refused = try await http("POST", server.base.api("/api/v1/silences"), body: Data(#"{"matchers": {"target": "lab/x"}, "starts_at": "yesterday", "duration": "1h"}"#.utf8), token: Self.token)
        #expect(refused.status == 400 && refused.text.contains("starts_at") && refused.text.contains("RFC 3339"), "\(refused.text)")
        let exact = try await http("POST", server.base.api("/api/v1/silences"), body: Data(#"{"matchers": {"rule": "none"}, "starts_at": "2026-12-07T10:00:00.123456Z", "ends_at": "2026-12-07T11:00:00Z"}"#.utf8), token: Self.token)
        let echoed = try exact.json() as? [String: Any]
        #expect(exact.status == 201 && echoed?["starts_at"] as? String == "2026-12-07T10:00:00.123456Z" && echoed?["ends_at"] as? String == "2026-12-07T11:00:00Z", "\(exact.text)")
    }

    @Test func metricsCountRequests() async throws {
        do {
            let server = try Running()
            defer { server.finish() }
            _ = try await http("GET", server.base.api("/api/v1/query", [("q", "targets")]))
            _ = try await http("GET", server.base.api("/api/v1/query", [("q", "nonsense")]))
            let m = try await http("GET", server.base.api("/metrics"))
            #expect(m.status == 200)
            #expect(m.text.contains("# TYPE smoketrace_http_requests_total counter"))
            #expect(m.text.contains("smoketrace_http_requests_total{route=\"/api/v1/query\",method=\"GET\",status=\"200\"} 1"))
            #expect(m.text.contains("smoketrace_http_requests_total{route=\"/api/v1/query\",method=\"GET\",status=\"400\"} 1"))
            #expect(m.text.contains("smoketrace_query_duration_seconds_count 1"))
            #expect(m.text.contains("# TYPE smoketrace_store_bytes gauge"))
        }
    }
}

/// Numbers as the renderers print them: up to three decimals, no trailing zeros.
func formatNumber(_ v: Double) -> String {
    var s = String(format: "%.3f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

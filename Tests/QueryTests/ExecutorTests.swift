import Foundation
import Testing
@testable import PathTSDB
@testable import Query

/// Answers of the executor checked against SQLite over the same runs.
@Suite(.serialized) struct ExecutorTests {
    /// How a column of our answer compares with SQLite's text.
    enum Cell {
        case text, integer
        /// RTT: ours in ms, SQLite's in µs.
        case rtt
        /// A plain number in both.
        case number
        case time
    }

    static func check(_ ours: ResultTable, _ theirs: [[String]], _ cells: [Cell],
                      sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(ours.rows.count == theirs.count, "row count", sourceLocation: sourceLocation)
        for (i, (a, b)) in zip(ours.rows, theirs).enumerated() {
            for (j, kind) in cells.enumerated() {
                let x = a[j], y = b[j]
                let ok: Bool
                switch kind {
                case .text: ok = x == (y.isEmpty ? .null : .text(y))
                case .integer: ok = x == (y.isEmpty ? .null : .integer(Int64(y) ?? -1))
                case .time: ok = x == .time(Int64(y) ?? -1)
                case .rtt, .number:
                    if y.isEmpty {
                        ok = x == .null
                    } else {
                        let want = Double(y) ?? .nan
                        let got = (x.double ?? .nan) * (kind == .rtt ? 1000 : 1)
                        ok = abs(got - want) <= 1e-6 * max(1, abs(want))
                    }
                }
                #expect(ok, "row \(i) column \(ours.columns[j]): ours \(x), SQLite \(y)", sourceLocation: sourceLocation)
            }
        }
    }

    let runs = QueryCorpus.runs()

    func withStore(_ body: (StoreSnapshot, SQLiteOracle) throws -> Void) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try QueryCorpus.store(runs, in: dir)
        defer { try? store.close() }
        let oracle = try SQLiteOracle(runs: runs, dir: dir)
        try body(store.snapshot(), oracle)
    }

    @Test func perHopAggregatesMatchSQLite() throws {
        try withStore { snap, oracle in
            let ours = try QueryEngine.table("stats count, lost, reply_loss, loss, silent, min, max, mean, stddev, p50, p95, p99 of all using raw",
                                             snapshot: snap, context: QueryCorpus.context)
            #expect(ours.columns == ["target", "ttl", "count", "lost", "reply_loss", "loss", "silent", "min", "max", "mean", "stddev",
                                     "p50", "p95", "p99"])
            let keys = ["target", "ttl"]
            // A hop is silent when it never answered and a later hop of its target did; its
            // losses are then NULL. Reply loss is the hop's own; loss the smallest reply loss
            // of this hop and every later one that answered.
            let theirs = try oracle.rows("""
                WITH g AS (SELECT target, ttl, rtt FROM probes),
                h AS (SELECT target, ttl, COUNT(*) AS n, SUM(rtt IS NULL) AS lost, 100.0 * SUM(rtt IS NULL) / COUNT(*) AS own FROM probes GROUP BY target, ttl),
                f AS (SELECT a.target, a.ttl,
                        (a.n = a.lost AND EXISTS (SELECT 1 FROM h b WHERE b.target = a.target AND b.ttl > a.ttl AND b.n > b.lost)) AS silent,
                        a.own, (SELECT MIN(b.own) FROM h b WHERE b.target = a.target AND b.ttl > a.ttl AND b.n > b.lost) AS later
                      FROM h a)
                SELECT o.target, o.ttl, COUNT(*), SUM(o.rtt IS NULL),
                  (SELECT CASE WHEN f.silent THEN NULL ELSE f.own END FROM f WHERE f.target = o.target AND f.ttl = o.ttl),
                  (SELECT CASE WHEN f.silent THEN NULL ELSE MIN(f.own, COALESCE(f.later, f.own)) END FROM f WHERE f.target = o.target AND f.ttl = o.ttl),
                  (SELECT f.silent FROM f WHERE f.target = o.target AND f.ttl = o.ttl),
                  MIN(o.rtt), MAX(o.rtt), AVG(o.rtt), sqrt(AVG(o.rtt * o.rtt) - AVG(o.rtt) * AVG(o.rtt)),
                  \(SQLiteOracle.quantile(0.5, keys: keys)), \(SQLiteOracle.quantile(0.95, keys: keys)), \(SQLiteOracle.quantile(0.99, keys: keys))
                FROM g o GROUP BY o.target, o.ttl ORDER BY o.target, o.ttl;
                """)
            #expect(theirs.count == 3 * 7 + 1)  // 6, 7 (8 after the change) and 8 hops
            Self.check(ours, theirs, [.text, .integer, .integer, .integer, .number, .number, .integer, .rtt, .rtt, .rtt, .rtt, .rtt, .rtt, .rtt])
            // eu/a's third hop never answers: silent, with no loss figure, not 100 % loss.
            let silent = try #require(ours.rows.first { $0[0] == .text("eu/a") && $0[1] == .integer(3) })
            #expect(silent[4] == .null && silent[5] == .null && silent[6] == .integer(1))
        }
    }

    @Test func hourlyBucketsOfAGroupAndATTLRangeMatchSQLite() throws {
        try withStore { snap, oracle in
            let ours = try QueryEngine.table("stats count, reply_loss, p90, max of group eu hops 2..4 step 1h using raw",
                                             snapshot: snap, context: QueryCorpus.context)
            #expect(ours.columns == ["target", "time", "ttl", "count", "reply_loss", "p90", "max"])
            let keys = ["target", "b", "ttl"]
            // A hop that never answered in the hour while a later hop read did is silent: NULL.
            let theirs = try oracle.rows("""
                WITH g AS (SELECT target, (start / 3600000000) * 3600000000 AS b, ttl, rtt FROM probes
                           WHERE target LIKE 'eu/%' AND ttl BETWEEN 2 AND 4)
                SELECT o.target, o.b, o.ttl, COUNT(*),
                  CASE WHEN SUM(o.rtt IS NULL) = COUNT(*)
                        AND EXISTS (SELECT 1 FROM g l WHERE l.target = o.target AND l.b = o.b AND l.ttl > o.ttl AND l.rtt IS NOT NULL)
                       THEN NULL ELSE 100.0 * SUM(o.rtt IS NULL) / COUNT(*) END,
                  \(SQLiteOracle.quantile(0.9, keys: keys)), MAX(o.rtt)
                FROM g o GROUP BY o.target, o.b, o.ttl ORDER BY o.target, o.b, o.ttl;
                """)
            #expect(theirs.count == 2 * 26 * 3)
            Self.check(ours, theirs, [.text, .time, .integer, .integer, .number, .rtt, .rtt])
        }
    }

    @Test func addressGroupsAndPrefixSelectionMatchSQLite() throws {
        try withStore { snap, oracle in
            // Lost probes count against the hop's address (the first answer at that TTL in the run).
            let ours = try QueryEngine.table("stats count, lost, mean, jitter of eu/b hop address 10.1.0.0/16 by address, ttl using raw",
                                             snapshot: snap, context: QueryCorpus.context)
            let theirs = try oracle.rows("""
                SELECT COALESCE(address, hop) AS a, ttl, COUNT(*), SUM(rtt IS NULL), AVG(rtt) FROM probes
                WHERE target = 'eu/b' AND hop LIKE '10.1.%'
                GROUP BY a, ttl;
                """)
            // SQLite orders addresses as text; ours in address order.
            let sorted = theirs.sorted { a, b in
                let x = IPAddress(a[0]) ?? IPAddress(v4: 0), y = IPAddress(b[0]) ?? IPAddress(v4: 0)
                return x != y ? x < y : Int(a[1]) ?? 0 < Int(b[1]) ?? 0
            }
            #expect(sorted.count > 10)
            Self.check(ResultTable(columns: ours.columns, rows: ours.rows.map { Array($0.prefix(5)) }), sorted,
                       [.text, .integer, .integer, .integer, .rtt])
            // The ECMP hop shows both branches as their own rows.
            #expect(ours.rows.contains { $0[0] == .text("10.1.4.1") } && ours.rows.contains { $0[0] == .text("10.1.4.2") })
            // Jitter: mean |Δ| of successive answered RTTs of each hop series, checked by hand for one address.
            let series = runs.filter { $0.target == "eu/b" }.flatMap { $0.probes.filter { $0.ttl == 2 && $0.address != nil } }
            let diffs = zip(series.dropFirst(), series).map { abs(Double($0.rttMicros) - Double($1.rttMicros)) }
            let row = try #require(ours.rows.first { $0[0] == .text("10.1.2.1") })
            #expect(abs((row[5].double ?? 0) * 1000 - diffs.reduce(0, +) / Double(diffs.count)) < 1e-6)
        }
    }

    @Test func filterOrderAndLimitMatchSQLite() throws {
        try withStore { snap, oracle in
            let ours = try QueryEngine.table("stats reply_loss, count of all by target, ttl where reply_loss > 5% and ttl != 3 order by reply_loss desc, target limit 4",
                                             snapshot: snap, context: QueryCorpus.context)
            #expect(ours.columns == ["target", "ttl", "reply_loss", "count"])
            let theirs = try oracle.rows("""
                SELECT target, ttl, 100.0 * SUM(rtt IS NULL) / COUNT(*) AS l, COUNT(*) FROM probes GROUP BY target, ttl
                HAVING l > 5 AND ttl != 3 ORDER BY l DESC, target LIMIT 4;
                """)
            #expect(theirs.count == 4)
            Self.check(ours, theirs, [.text, .integer, .number, .integer])
            // A filter on an aggregate that is not shown computes it without showing it.
            let hidden = try QueryEngine.table("stats count of all by target where p95 > 15ms", snapshot: snap, context: QueryCorpus.context)
            #expect(hidden.columns == ["target", "count"])
            let p95 = try QueryEngine.table("stats p95 of all by target", snapshot: snap, context: QueryCorpus.context)
            #expect(hidden.rows.map { $0[0] } == p95.rows.filter { ($0[1].double ?? 0) > 15 }.map { $0[0] })
            // A shown aggregate named again in another spelling (`p95.`) is a column of its own:
            // it trapped on a row a cell short (found by the fuzz campaign).
            let respelled = try QueryEngine.table("stats p95 of all by target where p95. > 15ms", snapshot: snap, context: QueryCorpus.context)
            #expect(respelled.columns == ["target", "p95"] && respelled.rows == p95.rows.filter { ($0[1].double ?? 0) > 15 })
        }
    }

    @Test func probesStreamOneRowPerProbeSent() throws {
        try withStore { snap, oracle in
            let from = QueryCorpus.start + 3_600_000_000
            let text = "probes of us/c hop 1..2 from \(RFC3339.format(micros: from)) to \(RFC3339.format(micros: from + 1_800_000_000))"
            var cursor = try QueryEngine.cursor(text, snapshot: snap, context: QueryCorpus.context)
            cursor.batchSize = 7
            var batches = 0
            var rows = [[ResultValue]]()
            while let b = try cursor.next() {
                #expect(b.count <= 7 + 6)  // a batch ends at a run's end
                batches += 1
                rows += b
            }
            let theirs = try oracle.rows("""
                SELECT target, start, ttl, idx, address, rtt FROM probes
                WHERE target = 'us/c' AND ttl <= 2 AND start >= \(from) AND start < \(from + 1_800_000_000) ORDER BY start, ttl, idx;
                """)
            #expect(batches >= 3)
            Self.check(ResultTable(columns: cursor.columns.map(\.name), rows: rows), theirs, [.text, .time, .integer, .integer, .text, .integer])
        }
    }

    @Test(arguments: ["probes", "probes of us/c, eu/a hop 2, address 10.0.0.0/8 limit 5000", "probes of eu/b from 2026-11-21T05:00:00Z to 2026-11-21T07:00:00Z"])
    func directCSVIsTheRenderedRows(text: String) throws {
        try withStore { snap, _ in
            var generic = try QueryEngine.cursor(text, snapshot: snap, context: QueryCorpus.context)
            var writer = ResultWriter(format: .csv, columns: generic.columns.map(\.name))
            var expected = writer.header()
            while let rows = try generic.next() { expected += writer.rows(rows) }
            var direct = try QueryEngine.cursor(text, snapshot: snap, context: QueryCorpus.context)
            #expect(direct.rendersCSVDirectly)
            var bytes = Array(writer.header().utf8)
            while try direct.nextCSV(into: &bytes, bytes: 10_000) {}
            #expect(direct.rowsEmitted == generic.rowsEmitted)
            #expect(String(decoding: bytes, as: UTF8.self) == expected)
        }
    }

    @Test func changesAndPathsComeFromTheStore() throws {
        try withStore { snap, _ in
            let changes = try QueryEngine.table("changes of all where new_hops > old_hops", snapshot: snap, context: QueryCorpus.context)
            #expect(changes.columns == ["time", "target", "vantage", "old_path", "new_path", "diff_ttl", "old_hops", "new_hops",
                                        "diff_ttls", "old_reached", "new_reached", "dest_changed", "balanced"])
            #expect(changes.rows.count == 1)
            let firstNewRun = try #require(runs.filter { $0.target == "eu/b" && $0.probes.count > 21 }.first)
            #expect(changes.rows.first?[0] == .time(firstNewRun.startMicros))
            // The reroute moves every hop from TTL 3 on; its runs are load-balanced (the ECMP hop
            // at TTL 4 answers from two addresses), so the change is between routes.
            #expect(changes.rows.first.map { Array($0[5...]) } == [.integer(3), .integer(7), .integer(8), .text("3,4,5,6,7,8"),
                                                                   .integer(1), .integer(1), .integer(1), .integer(1)])
            let paths = try QueryEngine.table("paths of eu/b order by first_seen", snapshot: snap, context: QueryCorpus.context)
            // Runs where a whole hop went unanswered, or whose first answer at the ECMP hop came
            // from the other branch, are variants of their route, not routes of their own.
            #expect(paths.rows.map { $0[7] } == [.integer(7), .integer(8)])
            #expect(paths.rows.allSatisfy { ($0[2].double ?? 0) > 1 })
            #expect(paths.rows.map { $0[5].double ?? 0 }.reduce(0, +) == Double(runs.filter { $0.target == "eu/b" }.count))
            #expect(paths.rows.last?[8] == .text("10.1.1.1 10.1.2.1 10.1.103.1 10.1.104.1|10.1.104.2 10.1.105.1 10.1.106.1 10.1.107.1 10.1.108.1"))
        }
    }

    @Test func pathKeepsTheRunsOfOneRouteAndMatchesSQLite() throws {
        try withStore { snap, oracle in
            // eu/b's second route is one hop longer: its runs are those with a probe at TTL 8.
            let paths = try QueryEngine.table("paths of eu/b order by first_seen", snapshot: snap, context: QueryCorpus.context)
            let longer = try #require(paths.rows.last)
            guard case .integer(let route) = longer[1], case .integer(let routeRuns) = longer[5] else {
                Issue.record("paths row \(longer)")
                return
            }
            let changed = runs.filter { $0.target == "eu/b" && $0.probes.contains { $0.ttl == 8 } }
            #expect(Int(routeRuns) == changed.count && changed.count < runs.filter { $0.target == "eu/b" }.count)

            let ours = try QueryEngine.table("stats count, lost, p50, max of eu/b path \(route)", snapshot: snap, context: QueryCorpus.context)
            let keys = ["target", "ttl"]
            let theirs = try oracle.rows("""
                WITH g AS (SELECT target, ttl, rtt FROM probes
                           WHERE target = 'eu/b' AND start IN (SELECT start FROM probes WHERE target = 'eu/b' AND ttl = 8))
                SELECT o.target, o.ttl, COUNT(*), SUM(o.rtt IS NULL), \(SQLiteOracle.quantile(0.5, keys: keys)), MAX(o.rtt)
                FROM g o GROUP BY o.target, o.ttl ORDER BY o.target, o.ttl;
                """)
            #expect(theirs.count == 8)
            Self.check(ours, theirs, [.text, .integer, .integer, .integer, .rtt, .rtt])

            // Any variant of the route names it; `paths` lists the route by its first.
            let variants = Set(snap.routeLifetimes(target: try #require(snap.catalog.targetID(named: "eu/b")), range: Int64.min..<Int64.max)
                .routes.first { $0.path.rawValue == UInt32(route) }?.variants ?? [])
            #expect(variants.count > 1)
            for v in variants {
                let again = try QueryEngine.table("stats count, lost, p50, max of eu/b path \(v.rawValue)", snapshot: snap, context: QueryCorpus.context)
                #expect(again.rows == ours.rows)
            }
            let listed = try QueryEngine.table("paths path \(variants.map { String($0.rawValue) }.sorted().last ?? "")", snapshot: snap, context: QueryCorpus.context)
            #expect(listed.rows == [longer])

            // Probes: one row per probe sent on the route; other targets have none on it.
            let probes = try QueryEngine.table("probes path \(route)", snapshot: snap, context: QueryCorpus.context)
            #expect(probes.rows.count == changed.reduce(0) { $0 + $1.probes.count })
            #expect(probes.rows.allSatisfy { $0[0] == .text("eu/b") })
        }
    }

    @Test func missedSlotsAreListedAndFiltered() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try QueryCorpus.store(Array(runs.prefix(30)), in: dir)
        defer { try? store.close() }
        let t = QueryCorpus.start
        try store.recordMissed([
            MissedSlot(target: "eu/a", vantage: "vp1", slotMicros: t + 600_000_000, reason: .stillRunning),
            MissedSlot(target: "eu/never-traced", vantage: "vp1", slotMicros: t + 60_000_000, reason: .late),
            MissedSlot(target: "us/c", vantage: "vp1", slotMicros: t + 900_000_000, reason: .noCapacity),
            MissedSlot(target: "us/c", vantage: "vp1", slotMicros: t + 1_200_000_000, reason: .failed, detail: "scamper: cannot run"),
        ])
        let snap = store.snapshot()
        let all = try QueryEngine.table("missed", snapshot: snap, context: QueryCorpus.context)
        #expect(all.columns == ["time", "target", "vantage", "reason", "detail"])
        #expect(all.rows.map { $0[1].text } == ["eu/never-traced", "eu/a", "us/c", "us/c"])
        let eu = try QueryEngine.table("missed of group eu where reason != \"late\"", snapshot: snap, context: QueryCorpus.context)
        #expect(eu.rows == [[.time(t + 600_000_000), .text("eu/a"), .text("vp1"), .text("still running"), .text("")]])
        let failed = try QueryEngine.table("missed where reason = \"failed\"", snapshot: snap, context: QueryCorpus.context)
        #expect(failed.rows == [[.time(t + 1_200_000_000), .text("us/c"), .text("vp1"), .text("failed"), .text("scamper: cannot run")]])
        let window = try QueryEngine.table("missed from \(RFC3339.format(micros: t + 300_000_000)) to \(RFC3339.format(micros: t + 700_000_000))",
                                           snapshot: snap, context: QueryCorpus.context)
        #expect(window.rows.map { $0[1].text } == ["eu/a"])
    }

    @Test func alertTransitionsAreAKindOfTheLanguage() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try QueryCorpus.store(Array(runs.prefix(30)), in: dir)
        defer { try? store.close() }
        let t = QueryCorpus.start
        var context = QueryCorpus.context
        let snap = store.snapshot()
        #expect(throws: QueryError.self, "no alerts where none are kept") { try QueryEngine.table("alerts", snapshot: snap, context: context) }
        context.alerts = [
            AlertTransition(alertID: 1, timeMicros: t + 60_000_000, state: .firing, rule: "pc", target: "eu/a", severity: "critical",
                            value: 3, annotations: ["summary": "path changed at TTL 3"]),
            AlertTransition(alertID: 2, timeMicros: t + 120_000_000, state: .firing, rule: "loss", target: "us/c", hop: 4, severity: "warning", value: 25),
            AlertTransition(alertID: 1, timeMicros: t + 900_000_000, state: .resolved, rule: "pc", target: "eu/a", severity: "critical", value: 0),
            AlertTransition(alertID: 3, timeMicros: t + 950_000_000, state: .blip, rule: "pc", target: "eu/b", severity: "critical"),
        ]
        let all = try QueryEngine.table("alerts", snapshot: snap, context: context)
        #expect(all.columns == ["time", "alert_id", "state", "rule", "target", "hop", "severity", "value", "summary"])
        #expect(all.rows.count == 4)
        #expect(all.rows[0] == [.time(t + 60_000_000), .integer(1), .text("firing"), .text("pc"), .text("eu/a"), .null, .text("critical"),
                                .number(3), .text("path changed at TTL 3")])
        let critical = try QueryEngine.table("alerts of group eu where severity = \"critical\" and state = firing", snapshot: snap, context: context)
        #expect(critical.rows.map { $0[1] } == [.integer(1)])
        let window = try QueryEngine.table("alerts from \(RFC3339.format(micros: t + 100_000_000)) to \(RFC3339.format(micros: t + 920_000_000)) order by time desc",
                                           snapshot: snap, context: context)
        #expect(window.rows.map { $0[2].text } == ["resolved", "firing"])
        let hops = try QueryEngine.table("alerts where hop >= 4", snapshot: snap, context: context)
        #expect(hops.rows.map { $0[4].text } == ["us/c"])
    }

    @Test func targetsBySelector() throws {
        try withStore { snap, _ in
            func names(_ text: String) -> [String] {
                do {
                    return try QueryEngine.table(text, snapshot: snap, context: QueryCorpus.context).rows.map { $0[0].text }
                } catch {
                    Issue.record("\(text): \(error)")
                    return []
                }
            }
            #expect(names("targets") == ["eu/a", "eu/b", "us/c"])
            #expect(names("targets of tag peer") == ["eu/b"])
            #expect(names("targets of tag core, us/c") == ["eu/a", "eu/b", "us/c"])
            #expect(names("targets of target ~ \"^e.*b$\"") == ["eu/b"])
            #expect(names("targets of group eu where target != \"eu/a\"") == ["eu/b"])
            let eu = try QueryEngine.table("targets of group eu", snapshot: snap, context: QueryCorpus.context)
            #expect(eu.rows[1] == [.text("eu/b"), .text("eu"), .text("core,peer")])
        }
    }

    @Test(arguments: [
        ("stats loss of nowhere", "no target named \"nowhere\""),
        ("stats loss where los > 5", "1:18: unknown column 'los'"),
        ("stats loss where loss > 5ms", "1:18: 'loss' takes a percentage (5 or 5%)"),
        ("stats p95 where p95 > 5%", "1:17: 'p95' takes an RTT"),
        ("stats p95 where target > 5", "1:17: 'target' is text"),
        ("paths where first_seen > 5", "1:13: 'first_seen' is a time"),
        ("stats loss by time", "grouping by time needs a step"),
        ("stats jitter using rollups", "'using rollups' cannot answer this query: they do not hold jitter"),
        ("stats loss by address using rollups", "'using rollups' cannot answer this query: they are kept per hop, not per address"),
        ("stats loss step 90m using rollups", "'using rollups' cannot answer this query: no rollup tier"),
        ("stats loss path 1 using rollups", "'using rollups' cannot answer this query: they are kept per hop, not per path"),
        ("stats loss of eu/b path 99999", "no path 99999 in the store's path dictionary"),
        ("paths path 99999", "no path 99999 in the store's path dictionary"),
        ("changes order by p95", "1:18: unknown column 'p95'"),
        ("changes from 2026-11-02 to 2026-11-01", "the time range ends before it starts"),
    ])
    func plannerErrors(text: String, message: String) throws {
        try withStore { snap, _ in
            do {
                _ = try QueryEngine.table(text, snapshot: snap, context: QueryCorpus.context)
                Issue.record("no error for \(text)")
            } catch let error as QueryError {
                #expect(error.description.hasPrefix(message), "\(error.description)")
            }
        }
    }

    @Test func boundsStopAQuery() throws {
        try withStore { snap, _ in
            var bounded = QueryCorpus.context
            bounded.maxRows = 10
            #expect(throws: QueryError("the answer has more than 10 rows; narrow the query or add 'limit'", code: .tooManyRows)) {
                _ = try QueryEngine.table("probes of all", snapshot: snap, context: bounded)
            }
            let limited = try QueryEngine.table("probes of all limit 10", snapshot: snap, context: bounded)
            #expect(limited.rows.count == 10)
            var late = QueryCorpus.context
            late.deadline = .now - .seconds(1)
            #expect(throws: QueryError("the query ran past its time limit and was stopped", code: .timeout)) {
                _ = try QueryEngine.table("stats p95 of all using raw", snapshot: snap, context: late)
            }
            var untagged = QueryCorpus.context
            untagged.tags = nil
            #expect(throws: QueryError("tag \"core\": tags come from the targets file, and none is loaded")) {
                _ = try QueryEngine.table("targets of tag core", snapshot: snap, context: untagged)
            }
        }
    }
}

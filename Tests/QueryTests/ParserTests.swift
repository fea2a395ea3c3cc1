import Testing
import PathTSDB
@testable import Query

@Suite struct ParserTests {
    @Test func statsQueryWithEveryClause() throws {
        let q = try Parser.parse("""
            stats p50, p99.9, loss, avg   # a comment
              of "core/gw 1", group eu, tag peer, target ~ "^us/"
              hops 3..9, address 10.0.0.0/8
              from 2026-11-01T00:00:00Z to 2026-11-02
              step 1h by target, hop, time
              where (loss > 5% or p95 >= 20ms) and not target = "x" and address in 10.1.0.0/16
              order by loss desc, target limit 10 using raw
            """)
        #expect(q.kind == .stats)
        #expect(q.aggregates == [.quantile(0.5), .quantile(99.9 / 100), .loss, .mean])
        #expect(q.targets == [.name("core/gw 1"), .group("eu"), .tag("peer"), .pattern("^us/")])
        #expect(q.hops == [.ttl(3...9), .address(IPPrefix("10.0.0.0/8")!)])
        #expect(q.range == .between(.absolute(1_793_491_200_000_000), .absolute(1_793_577_600_000_000)))
        #expect(q.stepMicros == 3_600_000_000)
        #expect(q.groupBy == [.target, .ttl, .time])
        #expect(q.order.map(\.column) == ["loss", "target"])
        #expect(q.order.map(\.descending) == [true, false])
        #expect(q.limit == 10)
        #expect(q.source == .raw)
        guard case .and(.and(.or(let a, let b), .not(let c)), let d) = q.filter else {
            Issue.record("filter shape: \(String(describing: q.filter))")
            return
        }
        #expect(a == .compare(column: "loss", op: .greater, value: .number(5, .percent), position: SourcePosition(line: 6, column: 10)))
        #expect(b == .compare(column: "p95", op: .greaterOrEqual, value: .number(20, .milliseconds), position: SourcePosition(line: 6, column: 23)))
        #expect(c == .compare(column: "target", op: .equal, value: .text("x"), position: SourcePosition(line: 6, column: 44)))
        #expect(d == .compare(column: "address", op: .inPrefix, value: .prefix(IPPrefix("10.1.0.0/16")!), position: SourcePosition(line: 6, column: 61)))
    }

    @Test func relativeTimesAndUnits() throws {
        #expect(try Parser.parse("changes last 7d").range == .last(7 * 86_400_000_000))
        #expect(try Parser.parse("paths since -36h").range == .since(.relative(-36 * 3_600_000_000)))
        #expect(try Parser.parse("probes from -2d to now").range == .between(.relative(-2 * 86_400_000_000), .relative(0)))
        #expect(Parser.literal("500us") == .number(0.5, .milliseconds))
        #expect(Parser.literal("1.5s") == .number(1500, .milliseconds))
        #expect(Parser.literal("12") == .number(12, .none))
        #expect(Parser.literal("2.5%") == .number(2.5, .percent))
        #expect(Parser.literal("12x") == nil)
    }

    @Test func keywordsAreCaseInsensitive() throws {
        let q = try Parser.parse("STATS P95 OF ALL LAST 1H STEP 5M")
        #expect(q.aggregates == [.quantile(0.95)])
        #expect(q.targets == [.pattern("")])
    }

    @Test(arguments: [
        ("", "1:1: expected a query kind (stats, paths, changes, probes, targets, missed or alerts), found the end of the query"),
        ("stat p95", "1:1: expected a query kind (stats, paths, changes, probes, targets, missed or alerts), found 'stat'"),
        ("stats p95 last", "1:15: expected a duration such as 90s, 5m, 24h or 7d, found the end of the query"),
        ("stats p95,\n  lossy", "2:3: expected an aggregate (count, answered, lost, loss, reply_loss, silent, min, max, mean, stddev, jitter, median or pNN such as p95), found 'lossy'"),
        ("stats p101", "1:7: expected an aggregate (count, answered, lost, loss, reply_loss, silent, min, max, mean, stddev, jitter, median or pNN such as p95), found 'p101'"),
        ("stats loss last 1h last 2h", "1:20: a second 'time range' clause (each clause may appear once)"),
        ("stats loss since -1h from -2h to now", "1:22: a second 'time range' clause (each clause may appear once)"),
        ("paths step 1h", "1:7: 'step' does not apply to paths queries"),
        ("stats loss hop 0", "1:16: expected a TTL from 1 to 255, a TTL range such as 3..9, or address PREFIX, found '0'"),
        ("stats loss hop 9..3", "1:19: expected a TTL from 9 to 255 ending the range, found '3'"),
        ("stats loss hop address 10.0.0.300", "1:24: expected an address or prefix such as 192.0.2.1 or 10.0.0.0/8, found '10.0.0.300'"),
        ("stats loss where loss >", "1:24: expected a value, found the end of the query"),
        ("stats loss where loss > 5 and", "1:30: expected a column name, 'not' or '(', found the end of the query"),
        ("stats loss where (loss > 5", "1:27: expected ')', found the end of the query"),
        ("stats loss where loss 5", "1:23: expected a comparison (=, !=, <, <=, >, >=, ~, !~ or in), found '5'"),
        ("stats loss where target ~ \"(\"", "1:27: not a valid regular expression"),
        ("stats loss where loss > 5x", "1:25: expected a number (5, 2.5), a number with a unit (50ms, 1s, 5%) or a time, found '5x'"),
        ("stats loss of \"unterminated", "1:15: string not closed (expected '\"' before the end of the line)"),
        ("stats loss of a; drop", "1:16: unexpected character ';'"),
        ("stats loss from -1h", "1:20: expected 'to', found the end of the query"),
        ("stats loss from yesterday to now", "1:17: expected a time: RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01), now, or an offset such as -24h, found 'yesterday'"),
        ("stats loss to now", "1:12: 'to' needs a 'from' before it"),
        ("stats loss limit -1", "1:18: expected a row count, found '-1'"),
        ("stats loss using disk", "1:18: expected raw, rollups or auto, found 'disk'"),
        ("stats loss by hop, path", "1:20: expected a grouping key (target, ttl, address or time), found 'path'"),
        ("targets last 1h", "1:9: 'last' does not apply to targets queries"),
        ("changes path 3", "1:9: 'path' does not apply to changes queries"),
        ("stats loss path 3, x", "1:20: expected a path id (a number from `paths`), found 'x'"),
        ("stats loss path -1", "1:17: expected a path id (a number from `paths`), found '-1'"),
        ("stats loss last 20000000w", "1:17: duration '20000000w' is longer than 1000 years"),
        ("stats loss step 99999999999999999999h", "1:17: duration '99999999999999999999h' is longer than 1000 years"),
        ("stats loss from -52180w to now", "1:17: offset '-52180w' is longer than 1000 years"),
    ])
    func malformedQueriesNameTheirPosition(text: String, message: String) {
        do {
            let q = try Parser.parse(text)
            Issue.record("parsed: \(q)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }

    @Test func hostileNestingIsAnErrorNotACrash() throws {
        let deep = "stats loss where " + String(repeating: "(", count: 5000) + "loss > 1" + String(repeating: ")", count: 5000)
        #expect(throws: QueryError("the filter nests deeper than 64 levels", line: 1, column: 82)) { try Parser.parse(deep) }
        let nots = "stats loss where " + String(repeating: "not ", count: 5000) + "loss > 1"
        #expect(throws: QueryError.self) { try Parser.parse(nots) }
        let fine = "stats loss where " + String(repeating: "(", count: 60) + "loss > 1" + String(repeating: ")", count: 60)
        #expect(try Parser.parse(fine).filter != nil)
        let longPattern = "targets of target ~ \"" + String(repeating: "a", count: 300) + "\""
        #expect(throws: QueryError.self) { try Parser.parse(longPattern) }
    }

    @Test func prefixesMatchTheirFamilyOnly() throws {
        let p = try #require(IPPrefix("10.1.2.3/16"))
        #expect(p.description == "10.1.0.0/16")
        #expect(p.contains(try #require(.init("10.1.200.9"))))
        #expect(!p.contains(try #require(.init("10.2.0.1"))))
        let v6 = try #require(IPPrefix("2001:db8::/32"))
        #expect(v6.contains(try #require(.init("2001:db8:ffff::1"))))
        #expect(!v6.contains(try #require(.init("10.1.2.3"))))
        #expect(IPPrefix("10.0.0.0/33") == nil)
        #expect(IPPrefix("0.0.0.0/0")?.contains(try #require(.init("192.0.2.1"))) == true)
    }
}

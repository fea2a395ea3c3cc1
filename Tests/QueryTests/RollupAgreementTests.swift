import Testing
@testable import PathTSDB
@testable import Query

/// Rollups and raw data give the same answer: counts, losses and extremes exactly, means to
/// rounding, quantiles within the sketch's relative accuracy.
@Suite(.serialized) struct RollupAgreementTests {
    static let queries = [
        "stats count, lost, loss, min, max, mean, p50, p90, p95, p99 of all step 1h",
        "stats count, loss, min, max, p50, p95 of group eu step 1d",
        "stats count, lost, mean, p99 of all by ttl",
        "stats count, loss, p50 of us/c hops 2..5 from 2026-11-21T02:00:00Z to 2026-11-21T20:00:00Z step 2h",
        "stats count, p95 of all by target where p95 > 10ms",
    ]

    @Test(arguments: [UInt64(3), 11, 29])
    func rollupsAgreeWithRaw(seed: UInt64) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try QueryCorpus.store(QueryCorpus.runs(hours: 30, seed: seed), in: dir)
        defer { try? store.close() }
        let snap = store.snapshot()
        for text in Self.queries {
            var fromRollups = try QueryEngine.cursor(text + " using rollups", snapshot: snap, context: QueryCorpus.context)
            var fromRaw = try QueryEngine.cursor(text + " using raw", snapshot: snap, context: QueryCorpus.context)
            #expect(fromRollups.plan.rollupTier != nil && fromRaw.plan.rollupTier == nil)
            let a = try fromRollups.table(), b = try fromRaw.table()
            #expect(a.columns == b.columns)
            #expect(a.rows.count == b.rows.count, "\(text)")
            #expect(!a.rows.isEmpty)
            for (x, y) in zip(a.rows, b.rows) {
                for (i, name) in a.columns.enumerated() {
                    let agrees: Bool
                    switch (name, x[i], y[i]) {
                    case (_, .null, .null): agrees = true
                    case (let n, .number(let r), .number(let e)) where n.hasPrefix("p"):
                        agrees = abs(r - e) <= QuantileSketch.relativeAccuracy * e + 1e-9
                    case ("mean", .number(let r), .number(let e)), ("loss", .number(let r), .number(let e)):
                        agrees = abs(r - e) <= 1e-9 * max(1, e)
                    default:
                        agrees = x[i] == y[i]
                    }
                    #expect(agrees, "\(text): \(name) from rollups \(x[i]), from raw \(y[i])")
                }
            }
        }
    }

    @Test func autoPicksRollupsOnlyWhenTheyAnswerTheSame() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try QueryCorpus.store(QueryCorpus.runs(hours: 4), in: dir)
        defer { try? store.close() }
        let snap = store.snapshot()
        func tier(_ text: String) throws -> RollupTier? {
            try QueryEngine.cursor(text, snapshot: snap, context: QueryCorpus.context).plan.rollupTier
        }
        #expect(try tier("stats p95 step 1h") == .oneHour)
        #expect(try tier("stats p95 step 1d") == .oneDay)
        #expect(try tier("stats p95") == .oneDay)  // everything: whole days
        #expect(try tier("stats p95 step 5m") == nil)
        #expect(try tier("stats p95, stddev step 1h") == nil)
        #expect(try tier("stats p95 by address step 1h") == nil)
        #expect(try tier("stats p95 from 2026-11-21T00:30:00Z to 2026-11-21T02:00:00Z") == nil)
    }
}

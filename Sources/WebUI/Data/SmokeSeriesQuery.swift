public import PathTSDB
public import Query

/// A target's smoke over a time range, per hop (the destination is the hop at its TTL: a
/// target's own figures pool every hop's RTTs), read with the query language: from rollups where they answer the same as raw data (long ranges), from raw data
/// otherwise. One bucket per step, the step chosen so that there are no more buckets than pixel
/// columns.
package struct SmokeSeriesQuery: Sendable {
    package var target: String
    package var fromMicros: Int64
    package var toMicros: Int64
    /// Pixel columns the buckets go into: the step is the shortest that gives no more.
    package var columns: Int

    package init(target: String, fromMicros: Int64, toMicros: Int64, columns: Int) {
        self.target = target
        self.fromMicros = fromMicros
        self.toMicros = toMicros
        self.columns = columns
    }

    /// The ranks of the smoke (SmokePing sorts a round's pings and draws each; a bucket's
    /// deciles do the same for any number of probes).
    static let ranks = ["min", "p10", "p20", "p30", "p40", "p60", "p70", "p80", "p90", "max"]

    /// The step: the shortest of round durations that fits the range into `columns` buckets.
    package var stepSeconds: Int64 {
        let span = max(toMicros - fromMicros, 1) / 1_000_000
        let ladder: [Int64] = [60, 300, 600, 1800, 3600, 7200, 21_600, 43_200, 86_400, 7 * 86_400]
        return ladder.first { span / $0 <= Int64(max(columns, 1)) } ?? 30 * 86_400
    }

    /// The query.
    package func text() throws(WebUIError) -> String {
        "stats count, loss, p50, \(SmokeSeriesQuery.ranks.joined(separator: ", ")) "
            + (try PageQuery.selection(target: target, fromMicros: fromMicros, toMicros: toMicros))
            + " step \(stepSeconds)s by time, ttl"
    }

    /// Each hop's buckets by TTL, in time order.
    package func run(snapshot: StoreSnapshot, context: QueryContext) throws -> [Int: [SmokeBucket]] {
        var out = [Int: [SmokeBucket]]()
        let table = try QueryEngine.table(try text(), snapshot: snapshot, context: context)
        let c = Columns(table)
        let step = stepSeconds * 1_000_000
        for row in table.rows {
            guard let start = c.time(row, "time"), let ttl = c.number(row, "ttl").map(Int.init) else { continue }
            let sent = Int(c.number(row, "count") ?? 0)
            // A silent hop has no loss figure: none of its probes count as the path's loss.
            let lossPercent = c.number(row, "loss") ?? 0
            let quantiles = SmokeSeriesQuery.ranks.compactMap { c.number(row, $0) }
            out[ttl, default: []].append(SmokeBucket(
                startMicros: start, endMicros: start + step, sent: sent, lost: Int((lossPercent * Double(sent) / 100).rounded()),
                medianMillis: c.number(row, "p50"), quantilesMillis: quantiles.count == SmokeSeriesQuery.ranks.count ? quantiles : []))
        }
        for key in out.keys { out[key]?.sort { $0.startMicros < $1.startMicros } }
        return out
    }
}

/// What a page could not be made of, and why.
package struct WebUIError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}

import ArgumentParser
import PathTSDB
import Query

/// `stserver hops`: per-hop statistics of one target over time buckets.
struct HopsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hops",
        abstract: "Per-hop loss and RTT statistics of one target, in time buckets.")

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Target name.")
    var target: String

    @OptionGroup var time: TimeRangeOptions

    @Option(name: .long, help: "Bucket size: 5m, 1h, 1d …")
    var step: String = "1h"

    @Option(name: .long, help: "Read from raw data, rollups, or auto.")
    var source: String = "auto"

    @Option(name: .long, help: "Only runs that took this path (an id from `stserver paths`); reads raw data.")
    var path: UInt32?

    @OptionGroup var output: OutputOptions

    func run() throws {
        let out = output.format
        guard let src = StatisticsSource(rawValue: source) else { throw ValidationError("--source takes raw, rollup or auto") }
        guard let stepMicros = DurationText.parseMicros(step), stepMicros > 0 else { throw ValidationError("--step takes a duration such as 1h") }
        try reportingErrors {
            let store = try store.openForReading()
            let snap = store.snapshot()
            let id = try snap.target(named: target)
            let range = try time.range(in: snap)
            let aligned = range.lowerBound - ((range.lowerBound % stepMicros) + stepMicros) % stepMicros
            let result = try snap.hopStatistics(target: id, range: aligned..<range.upperBound, stepMicros: stepMicros,
                                                quantiles: [0.5, 0.95], source: src, path: path.map(PathID.init))
            for p in result.problems { StandardError.write("stserver: warning: \(p)\n") }
            var table = ResultTable(columns: ["time", "hop", "sent", "loss_pct", "min_ms", "p50_ms", "p95_ms", "max_ms", "mean_ms"])
            func ms(_ v: Double?) -> ResultValue { v.map { .number($0 / 1000) } ?? .null }
            for r in result.rows {
                table.rows.append([.time(r.bucketMicros), .integer(Int64(r.ttl)), .integer(Int64(r.sent)),
                                   .number(r.lossRatio * 100), ms(r.minMicros.map(Double.init)), ms(r.quantiles[0]),
                                   ms(r.quantiles[1]), ms(r.maxMicros.map(Double.init)), ms(r.meanMicros)])
            }
            print(out.render(table), terminator: "")
            try store.close()
        }
    }
}

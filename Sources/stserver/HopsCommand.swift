import ArgumentParser
import PathTSDB
import Query

/// `stserver hops`: per-hop statistics of one target over time buckets.
struct HopsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hops",
        abstract: "Per-hop loss and RTT statistics of one target, in time buckets.",
        discussion: """
            The same answer as:
              stserver query --at newest 'stats count, loss, min, p50, p95, max, mean, reply_loss, silent of NAME \\
                from FROM to TO step STEP by time, ttl[, address] [path ID] [using SOURCE]'
            When a hop answered from more than one address in the range (the branches of a load balancer), each \
            address gets its own rows, so that two branches' RTTs are not blended: --split never turns that off, \
            --split always asks for it.
            """)

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Target name.")
    var target: String

    @OptionGroup var time: TimeRangeOptions

    @Option(name: .long, help: "Bucket size: 5m, 1h, 1d …")
    var step: String = "1h"

    @Option(name: .long, help: "Read from raw data, rollups, or auto.")
    var source: String = "auto"

    @Option(name: .long, help: "Only runs on the route of this path (an id from `stserver paths`); reads raw data.")
    var path: UInt32?

    @Option(name: .long, help: "Rows per address of a hop: auto (when a hop has several), always, never.")
    var split: SplitMode = .auto

    enum SplitMode: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @OptionGroup var output: OutputOptions

    func run() throws {
        guard let src = StatisticsSource(rawValue: source) else { throw ValidationError("--source takes raw, rollup or auto") }
        guard let stepMicros = DurationText.parseMicros(step), stepMicros > 0 else { throw ValidationError("--step takes a duration such as 1h") }
        try QueryShorthand.run(store: store, format: output.format) { snap in
            var q = ParsedQuery(kind: .stats)
            q.aggregates = [.count, .loss, .min, .quantile(0.5), .quantile(0.95), .max, .mean, .replyLoss, .silent]
            q.targets = [.name(target)]
            q.range = try time.spec(in: snap)
            q.stepMicros = stepMicros
            q.groupBy = [.time, .ttl]
            q.source = src
            q.routePaths = path.map { [PathID(rawValue: $0)] } ?? []
            // Rollups keep no address: splitting reads raw data, and is not done for --source rollup.
            let byAddress = switch split {
            case .always: true
            case .never: false
            case .auto: try src != .rollup && BranchedHops.present(for: q, snapshot: snap, context: QueryShorthand.context(of: snap))
            }
            if byAddress { q.groupBy = [.time, .ttl, .address] }
            return q
        }
    }
}

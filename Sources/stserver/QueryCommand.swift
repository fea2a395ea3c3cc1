import ArgumentParser
import PathTSDB
import Probe
import Query

/// Options shared by the commands that run a query: the targets file (for tags), "now", bounds.
struct QueryOptions: ParsableArguments {
    @Option(name: .long, help: "Targets file (YAML), for selecting targets by tag.")
    var targets: String?

    @Option(name: .long, help: "What relative times count from: now (the default), newest (the newest data held), or an RFC 3339 time.")
    var at: String = "now"

    @Option(name: .long, help: "Stop a query that runs longer than this (e.g. 30s).")
    var timeout: String?

    /// The context for a query over `snapshot`.
    func context(for snapshot: StoreSnapshot) throws -> QueryContext {
        guard let now = QueryContext.now(at: at, snapshot: snapshot) else {
            throw ValidationError("--at takes now, newest or an RFC 3339 time")
        }
        var c = QueryContext(nowMicros: now)
        if let targets {
            let list = try TargetConfiguration.parse(try readFile(targets), source: targets)
            c.tags = Dictionary(list.map { ($0.name, $0.tags) }, uniquingKeysWith: { a, _ in a })
        }
        if let timeout {
            guard let micros = DurationText.parseMicros(timeout) else { throw ValidationError("--timeout takes a duration such as 30s") }
            c.deadline = .now + .microseconds(micros)
        }
        return c
    }
}

/// `stserver query`: runs one query against the store and prints the answer.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a query (docs/QUERY.md) and print the answer.",
        discussion: """
            Examples:
              stserver query 'stats p50, p95, loss of "core/gw" last 24h step 1h'
              stserver query 'changes of group core last 7d' --format csv
              stserver query 'stats loss, p95 last 15m by target where loss > 5% or p95 > 100ms'
            """)

    @Argument(help: "The query text; - reads it from standard input.")
    var text: String

    @OptionGroup var store: DataOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var options: QueryOptions

    @Flag(name: .long, help: "Print the plan (targets, range, source) instead of the answer.")
    var explain = false

    @Option(name: .long, help: "Ask a running server (http://127.0.0.1:8470) instead of opening --data, which it holds.")
    var server: String?

    @Option(name: .long, help: "With --server: a file whose first token line is sent as the bearer token.")
    var tokenFile: String?

    func run() async throws {
        let source = try reportingErrors { text == "-" ? try readStandardInput() : text }
        if let server {
            try await reportingErrors {
                try await RemoteQuery(server: server, tokenFile: tokenFile).run(source, format: output.format, at: options.at)
            }
            return
        }
        try reportingErrors {
            let db = try store.openForReading()
            defer { try? db.close() }
            let snap = db.snapshot()
            var context = try options.context(for: snap)
            context.alerts = AlertLog.transitions(in: try AlertLog.records(readingOnly: db))
            var cursor = try QueryEngine.cursor(source, snapshot: snap, context: context)
            if explain {
                let p = cursor.plan
                print("\(p.summary)\nrange: \(RFC3339.format(micros: p.range.lowerBound)) to \(RFC3339.format(micros: p.range.upperBound))"
                      + (p.stepMicros.map { "\nstep: " + DurationText.format(micros: $0) } ?? "") + "\ncolumns: \(p.columns.map(\.name).joined(separator: ", "))")
                return
            }
            try QueryShorthand.printAnswer(&cursor, format: output.format)
            if let warning = QuarantineWarning.text(db.quarantinedFiles) { StandardError.write("stserver: warning: \(warning)\n") }
        }
    }
}

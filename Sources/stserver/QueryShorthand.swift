import ArgumentParser
import PathTSDB
import Query

/// `hops`, `paths` and `changes` are queries of the language (docs/QUERY.md) built from their
/// options: each runs through the same planner and executor as `stserver query` and prints the
/// same answer, so there is one way to compute each of them.
enum QueryShorthand {
    /// Opens the store, builds the query against its snapshot and prints the answer. Relative
    /// times count from the newest data held, as the commands' `--from` and `--to` do.
    static func run(store: DataOptions, format: OutputFormat, _ build: (StoreSnapshot) throws -> ParsedQuery) throws {
        try reportingErrors {
            let db = try store.openForReading()
            defer { try? db.close() }
            let snap = db.snapshot()
            let q = try build(snap)
            var cursor = try QueryEngine.cursor(q, snapshot: snap, context: context(of: snap))
            try printAnswer(&cursor, format: format)
        }
    }

    /// The context the shorthands run in: relative times count from the newest data held.
    static func context(of snap: StoreSnapshot) -> QueryContext {
        QueryContext(nowMicros: (snap.timeRange?.upperBound ?? WallClock.nowMicros()) + 1)
    }

    /// Streams a cursor's answer to standard output; problems met on the way go to standard error.
    static func printAnswer(_ cursor: inout QueryCursor, format: OutputFormat) throws {
        var writer = ResultWriter(format: format, columns: cursor.columns.map(\.name))
        let out = StandardOutput()
        out.write(writer.header())
        while let rows = try cursor.next() { out.write(writer.rows(rows)) }
        out.write(writer.finish())
        out.flush()
        for p in cursor.problems { StandardError.write("stserver: warning: \(p)\n") }
    }
}

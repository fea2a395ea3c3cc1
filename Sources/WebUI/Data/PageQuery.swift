import PathTSDB

/// The clauses every page's queries share.
enum PageQuery {
    /// `of "TARGET" from T to T`: one target, quoted, over a range.
    /// - Throws: `WebUIError` for a name that a quoted word cannot hold (a quote or backslash).
    static func selection(target: String, fromMicros: Int64, toMicros: Int64) throws(WebUIError) -> String {
        guard !target.contains("\""), !target.contains("\\") else { throw WebUIError("target name \(target) cannot be quoted in a query") }
        return "of \"\(target)\" from \(RFC3339.format(micros: fromMicros)) to \(RFC3339.format(micros: toMicros))"
    }
}

package import PathTSDB

/// What a query runs against besides the store: the time it counts from, what the targets file
/// says of each target, and the bounds the caller sets.
public struct QueryContext: Sendable {
    /// "Now" for relative times, microseconds since the epoch.
    public var nowMicros: Int64
    /// Tags per target name, from the targets file; nil when no targets file is loaded, in which
    /// case a `tag` selector is an error rather than a silent empty answer.
    public var tags: [String: [String]]?
    /// At most this many result rows; more is an error (`limit` in the query stays below it).
    public var maxRows: Int?
    /// The query fails once this instant passes.
    public var deadline: ContinuousClock.Instant?
    /// Alert transitions for the `alerts` kind, oldest first (the alert log's, or the running
    /// engine's); nil where there are none to read, which that kind reports as an error.
    package var alerts: [AlertTransition]?

    /// A context that reads relative times from `nowMicros`, with optional target tags, a row limit
    /// and a deadline.
    public init(nowMicros: Int64, tags: [String: [String]]? = nil, maxRows: Int? = nil, deadline: ContinuousClock.Instant? = nil) {
        self.nowMicros = nowMicros
        self.tags = tags
        self.maxRows = maxRows
        self.deadline = deadline
    }

    /// Throws once the deadline has passed.
    func checkDeadline() throws(QueryError) {
        if let deadline, ContinuousClock.now >= deadline {
            throw QueryError("the query ran past its time limit and was stopped", code: .timeout)
        }
    }
}

import PathTSDB

/// The time range a page shows: a preset ending now (3 h, 1 d, 7 d, 30 d, 1 y) or a custom one.
package struct PageRange: Sendable, Equatable {
    package var fromMicros: Int64
    package var toMicros: Int64
    /// The preset's name (`3h`…), nil for a custom range.
    package var preset: String?

    package static let presets: [(name: String, label: String, micros: Int64)] = [
        ("3h", "3 hours", 3 * 3_600_000_000), ("1d", "1 day", 86_400_000_000), ("7d", "7 days", 7 * 86_400_000_000),
        ("30d", "30 days", 30 * 86_400_000_000), ("1y", "1 year", 365 * 86_400_000_000),
    ]

    /// The range a page's query parameters ask for: `range=PRESET` (default 1d), or `from` and
    /// `to` as RFC 3339 times.
    /// - Throws: `WebUIError` naming the parameter that is not understood.
    package init(range: String?, from: String?, to: String?, nowMicros: Int64) throws(WebUIError) {
        if from != nil || to != nil {
            guard let f = from.flatMap(RFC3339.parse) else { throw WebUIError("from: expected an RFC 3339 time such as 2026-12-07T12:00:00Z") }
            guard let t = to.flatMap(RFC3339.parse) else { throw WebUIError("to: expected an RFC 3339 time such as 2026-12-07T18:00:00Z") }
            guard t > f else { throw WebUIError("to must be after from") }
            self.init(fromMicros: f, toMicros: t, preset: nil)
            return
        }
        let name = range ?? "1d"
        guard let p = PageRange.presets.first(where: { $0.name == name }) else {
            throw WebUIError("range: expected one of \(PageRange.presets.map(\.name).joined(separator: ", "))")
        }
        self.init(fromMicros: nowMicros - p.micros, toMicros: nowMicros, preset: p.name)
    }

    package init(fromMicros: Int64, toMicros: Int64, preset: String?) {
        self.fromMicros = fromMicros
        self.toMicros = toMicros
        self.preset = preset
    }

    /// The ranges a reader moves to from this one, each as a custom range: the same span earlier
    /// and later, the middle half (zoom in), and twice the span around the same middle (zoom out).
    package var neighbours: (earlier: PageRange, later: PageRange, zoomIn: PageRange, zoomOut: PageRange) {
        let span = toMicros - fromMicros, quarter = span / 4
        return (PageRange(fromMicros: fromMicros - span, toMicros: fromMicros, preset: nil),
                PageRange(fromMicros: toMicros, toMicros: toMicros + span, preset: nil),
                PageRange(fromMicros: fromMicros + quarter, toMicros: toMicros - quarter, preset: nil),
                PageRange(fromMicros: fromMicros - span / 2, toMicros: toMicros + span / 2, preset: nil))
    }

    /// The query string of this range: `range=PRESET`, or `from=…&to=…`.
    package var query: String {
        preset.map { "range=" + $0 }
            ?? "from=\(PagePath.escapeComponent(RFC3339.format(micros: fromMicros)))&to=\(PagePath.escapeComponent(RFC3339.format(micros: toMicros)))"
    }
}

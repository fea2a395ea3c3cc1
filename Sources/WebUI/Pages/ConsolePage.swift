import Foundation
package import PathTSDB
package import Query

/// The query console: a query of the language (QUERY.md) typed into a form, its plan, its
/// answer as a table (and as a graph when it is a time series), a link to the same answer as
/// CSV, and an error shown where it is in the text, line and column.
package struct ConsolePage: Sendable {
    package var text: String
    /// `at=`, passed on to the CSV link.
    package var at: String?
    /// Rows shown on the page; the CSV link has them all.
    package var shownRows = 1000
    package var chartWidth = 720

    package init(text: String, at: String?) {
        self.text = text
        self.at = at
    }

    /// The queries offered when the form is empty.
    static let examples = [
        "stats p50, p95, loss of all last 1h by target order by loss desc limit 20",
        "changes of all last 24h",
        "stats p50, loss of \"core/gw\" last 6h step 10m by time, ttl",
        "paths of all last 24h",
    ]

    /// The page's values, the query run against `snapshot` with `context`.
    package func model(snapshot: StoreSnapshot, context: QueryContext) -> [String: Any] {
        var m: [String: Any] = [
            "title": "Query", "text": text, "hasText": !text.isEmpty,
            "examples": ConsolePage.examples.map { ["example": $0, "href": "/console?q=" + PagePath.escapeComponent($0)] },
        ]
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return m }
        m["csvHref"] = "/api/v1/query?format=csv&q=" + PagePath.escapeComponent(text) + (at.map { "&at=" + PagePath.escapeComponent($0) } ?? "")
        do {
            var cursor = try QueryEngine.cursor(text, snapshot: snapshot, context: context)
            let columns = cursor.columns.map(\.name)
            var rows = [[ResultValue]]()
            var total = 0
            while let batch = try cursor.next() {
                total += batch.count
                if rows.count < shownRows { rows += batch.prefix(shownRows - rows.count) }
            }
            m["plan"] = cursor.plan.summary
            m["columns"] = columns.map { ["name": $0] }
            m["rows"] = rows.map { row in ["cells": row.map { v -> [String: Any] in ["text": v.text, "number": v.double != nil] }] }
            m["rowsLine"] = total > rows.count ? "\(total) rows; the first \(rows.count) shown (the CSV has them all)" : "\(total) row\(total == 1 ? "" : "s")"
            m["hasRows"] = !rows.isEmpty
            if let chart = ResultChart(title: text.split(separator: "\n").first.map(String.init) ?? text, columns: columns, rows: rows) {
                var c = chart
                c.width = chartWidth
                m["chart"] = c.svg()
            }
        } catch {
            m["error"] = error.message
            if let line = error.line {
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                let column = max(error.column ?? 1, 1)
                m["where"] = "line \(line), column \(column)"
                if line >= 1, line <= lines.count {
                    let shown = String(lines[line - 1])
                    m["errorLine"] = shown
                    m["caret"] = String(repeating: " ", count: min(column - 1, shown.count)) + "^"
                }
            }
        }
        return m
    }
}

import PathTSDB

/// Renders a result as it streams: the header, then each batch of rows, then the end, so that a
/// large export goes out as it is read. An aligned table needs every row for its widths, so it
/// is rendered whole at `finish()`.
public struct ResultWriter {
    /// The format rendered.
    public let format: OutputFormat
    private let columns: [String]
    /// Each column's JSON key, quoted once rather than on every row.
    private let jsonKeys: [String]
    private var rowsWritten = 0
    private var tableRows: [[ResultValue]] = []
    /// The last time cell formatted: a run's probes share their start time.
    private var lastTime: (Int64, String)?

    /// A writer of `format` for a result with these column names.
    public init(format: OutputFormat, columns: [String]) {
        self.format = format
        self.columns = columns
        jsonKeys = columns.enumerated().map { (i, c) in (i == 0 ? "" : ", ") + JSONRenderer.quote(c) + ": " }
    }

    /// A whole table at once.
    static func render(_ t: ResultTable, as format: OutputFormat) -> String {
        var w = ResultWriter(format: format, columns: t.columns)
        return w.header() + w.rows(t.rows) + w.finish()
    }

    /// The MIME type of the rendered output.
    public var contentType: String {
        switch format {
        case .csv: "text/csv; charset=utf-8"
        case .json: "application/json"
        case .table: "text/plain; charset=utf-8"
        }
    }

    /// What comes before the first row.
    public func header() -> String {
        switch format {
        case .csv: columns.map(CSVRenderer.field).joined(separator: ",") + "\r\n"
        case .json: "["
        case .table: ""
        }
    }

    /// The text of one batch of rows.
    public mutating func rows(_ batch: [[ResultValue]]) -> String {
        var out = ""
        switch format {
        case .table:
            tableRows += batch
        case .csv:
            out.reserveCapacity(batch.count * 48)
            for row in batch {
                for (i, v) in row.enumerated() {
                    if i > 0 { out += "," }
                    out += CSVRenderer.field(text(v))
                }
                out += "\r\n"
            }
        case .json:
            out.reserveCapacity(batch.count * 128)
            for row in batch {
                out += rowsWritten == 0 ? "\n  {" : ",\n  {"
                for (i, v) in row.enumerated() {
                    out += jsonKeys[i]
                    if case .time = v { out += "\"" + text(v) + "\"" } else { out += JSONRenderer.value(v) }
                }
                out += "}"
                rowsWritten += 1
            }
        }
        return out
    }

    /// What comes after the last row.
    public mutating func finish() -> String {
        switch format {
        case .csv: return ""
        case .json: return rowsWritten == 0 ? "]\n" : "\n]\n"
        case .table: return TableRenderer.render(ResultTable(columns: columns, rows: tableRows))
        }
    }

    private mutating func text(_ v: ResultValue) -> String {
        guard case .time(let t) = v else { return v.text }
        if let (lt, s) = lastTime, lt == t { return s }
        let s = RFC3339.format(micros: t)
        lastTime = (t, s)
        return s
    }
}

import PathTSDB

/// One cell of a result.
public enum ResultValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case number(Double)
    case text(String)
    /// Microseconds since the epoch, printed as RFC 3339.
    case time(Int64)
}

/// A query's answer: named columns and rows of cells, rendered by `TableRenderer`,
/// `CSVRenderer` or `JSONRenderer`.
public struct ResultTable: Sendable, Equatable {
    /// The column names, in order.
    public var columns: [String]
    /// The rows, each with one value per column.
    public var rows: [[ResultValue]]

    /// A table of `columns`, holding `rows`.
    public init(columns: [String], rows: [[ResultValue]] = []) {
        self.columns = columns
        self.rows = rows
    }
}

/// The output formats.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, csv, json

    /// Renders `table` in this format.
    public func render(_ table: ResultTable) -> String {
        switch self {
        case .table: TableRenderer.render(table)
        case .csv: CSVRenderer.render(table)
        case .json: JSONRenderer.render(table)
        }
    }
}

extension ResultValue {
    /// The cell as plain text (no quoting).
    public var text: String {
        switch self {
        case .null: ""
        case .integer(let v): String(v)
        case .number(let v): ResultValue.format(v)
        case .text(let s): s
        case .time(let us): RFC3339.format(micros: us)
        }
    }

    /// Up to three decimals, no trailing zeros: RTTs in ms keep their µs.
    static func format(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "Inf" : "-Inf") }
        let scaled = (v * 1000).rounded()
        if abs(scaled) >= 9e15 { return String(v) }
        let i = Int64(scaled)
        let neg = i < 0
        let a = neg ? -i : i
        var s = String(a / 1000)
        var frac = a % 1000
        if frac != 0 {
            var digits = String(frac)
            digits = String(repeating: "0", count: 3 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            s += "." + digits
            frac = 0
        }
        return (neg ? "-" : "") + s
    }
}

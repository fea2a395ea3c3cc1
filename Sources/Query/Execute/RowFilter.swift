import PathTSDB

/// A `where` expression compiled against a plan's columns: column names resolved to indexes,
/// units converted, regular expressions compiled once.
struct RowFilter {
    private indirect enum Node {
        case and(Node, Node)
        case or(Node, Node)
        case not(Node)
        case number(Int, Comparison, Double)
        case time(Int, Comparison, Int64)
        case text(Int, Comparison, String)
        case regex(Int, Regex<AnyRegexOutput>, negated: Bool)
        case prefix(Int, IPPrefix)
        case columns(Int, Comparison, Int)
    }

    private let root: Node

    init(_ e: Expression, columns: [ResultColumn]) throws(QueryError) {
        root = try RowFilter.compile(e, columns: columns)
    }

    private static func compile(_ e: Expression, columns: [ResultColumn]) throws(QueryError) -> Node {
        switch e {
        case .and(let a, let b): return .and(try compile(a, columns: columns), try compile(b, columns: columns))
        case .or(let a, let b): return .or(try compile(a, columns: columns), try compile(b, columns: columns))
        case .not(let a): return .not(try compile(a, columns: columns))
        case .compare(let name, let op, let value, let pos):
            guard let i = columns.firstIndex(where: { $0.name == name }) else {
                throw QueryError("unknown column '\(name)'", line: pos.line, column: pos.column)
            }
            switch value {
            case .column(let other), .word(let other):
                guard let j = columns.firstIndex(where: { $0.name == other }) else {
                    throw QueryError("unknown column '\(other)'", line: pos.line, column: pos.column)
                }
                return .columns(i, op, j)
            case .number(let v, _): return .number(i, op, v)
            case .time(let t): return .time(i, op, t)
            case .prefix(let p): return .prefix(i, p)
            case .text(let s):
                guard op == .matches || op == .notMatches else { return .text(i, op, s) }
                do {
                    return .regex(i, try Regex(s), negated: op == .notMatches)
                } catch {
                    throw QueryError("not a valid regular expression: \(error)", line: pos.line, column: pos.column)
                }
            }
        }
    }

    /// Whether `row` passes. A comparison with a null cell (no answered probe) is false.
    func accepts(_ row: [ResultValue]) -> Bool { eval(root, row) }

    private func eval(_ n: Node, _ row: [ResultValue]) -> Bool {
        switch n {
        case .and(let a, let b): return eval(a, row) && eval(b, row)
        case .or(let a, let b): return eval(a, row) || eval(b, row)
        case .not(let a): return !eval(a, row)
        case .number(let i, let op, let v):
            let x: Double
            switch row[i] {
            case .integer(let n): x = Double(n)
            case .number(let d): x = d
            default: return false
            }
            return RowFilter.compare(x, op, v)
        case .time(let i, let op, let t):
            guard case .time(let x) = row[i] else { return false }
            return RowFilter.compare(x, op, t)
        case .text(let i, let op, let s):
            guard case .text(let x) = row[i] else { return false }
            return op == .equal ? x == s : x != s
        case .regex(let i, let r, let negated):
            guard case .text(let x) = row[i] else { return false }
            return x.contains(r) != negated
        case .columns(let i, let op, let j):
            switch (row[i], row[j]) {
            case (.text(let a), .text(let b)): return RowFilter.compare(a, op, b)
            case (.time(let a), .time(let b)): return RowFilter.compare(a, op, b)
            default:
                guard let a = row[i].double, let b = row[j].double else { return false }
                return RowFilter.compare(a, op, b)
            }
        case .prefix(let i, let p):
            guard case .text(let x) = row[i], let a = IPAddress(x) else { return false }
            return p.contains(a)
        }
    }

    private static func compare<T: Comparable>(_ a: T, _ op: Comparison, _ b: T) -> Bool {
        switch op {
        case .equal: a == b
        case .notEqual: a != b
        case .less: a < b
        case .lessOrEqual: a <= b
        case .greater: a > b
        case .greaterOrEqual: a >= b
        case .matches, .notMatches, .inPrefix: false
        }
    }
}

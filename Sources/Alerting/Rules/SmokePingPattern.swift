import Foundation

/// SmokePing's alert pattern: a comma-separated list of comparisons matched against a target's
/// latest runs, the last entry against the newest run. `>10%` (loss) or `>50` (RTT in ms) take
/// one run each; `<`, `<=`, `>=` and `==` compare the same way; `U` matches a run with no value
/// (no reply at all); `*N*` matches any N runs or fewer. `>10%,*12*,>10%`: loss above 10 % in
/// the newest run, and again at most 12 runs before it.
package struct SmokePingPattern: Sendable, Equatable, CustomStringConvertible {
    /// Which figure the pattern reads.
    package enum Figure: String, Sendable, Equatable {
        /// Loss at the destination, percent.
        case loss
        /// Median RTT at the destination, ms.
        case rtt
    }

    enum Entry: Sendable, Equatable {
        case compare(Comparison, Double)
        case unknown
        case skip(Int)
    }

    enum Comparison: String, Sendable, Equatable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "=="

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .less: a < b
            case .lessOrEqual: a <= b
            case .greater: a > b
            case .greaterOrEqual: a >= b
            case .equal: a == b
            }
        }
    }

    package let figure: Figure
    package let text: String
    let entries: [Entry]

    /// The number of runs the pattern can look back over at most.
    package var span: Int {
        entries.reduce(0) { n, e in if case .skip(let k) = e { n + k } else { n + 1 } }
    }

    package var description: String { "\(figure.rawValue) \(text)" }

    /// Reads `text`; an entry that does not read is named by its 1-based position.
    package init(figure: Figure, text: String) throws(AlertingError) {
        self.figure = figure
        self.text = text
        var entries = [Entry]()
        for (i, raw) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let item = raw.trimmingCharacters(in: .whitespaces)
            func fail(_ why: String) -> AlertingError {
                AlertingError(.invalidRules, "pattern entry \(i + 1) '\(item)': \(why)")
            }
            if item == "U" {
                entries.append(.unknown)
                continue
            }
            if item.hasPrefix("*") {
                guard item.count >= 3, item.hasSuffix("*"), let n = Int(item.dropFirst().dropLast()), n > 0, n <= 1000 else {
                    throw fail("a wildcard is *N* with N from 1 to 1000")
                }
                entries.append(.skip(n))
                continue
            }
            guard let op = [Comparison.lessOrEqual, .greaterOrEqual, .equal, .less, .greater].first(where: { item.hasPrefix($0.rawValue) }) else {
                throw fail("expected <, <=, >, >=, == followed by a number, U, or *N*")
            }
            var number = item.dropFirst(op.rawValue.count)
            switch figure {
            case .loss:
                guard number.hasSuffix("%") else { throw fail("a loss is given in percent, such as >10%") }
                number = number.dropLast()
            case .rtt:
                if number.hasSuffix("ms") { number = number.dropLast(2) }
            }
            guard let value = Double(number), value.isFinite, value >= 0, figure == .rtt || value <= 100 else {
                throw fail(figure == .loss ? "expected a percentage from 0 to 100" : "expected a number of milliseconds")
            }
            entries.append(.compare(op, value))
        }
        guard entries.contains(where: { if case .skip = $0 { false } else { true } }) else {
            throw AlertingError(.invalidRules, "pattern '\(text)' has no entry that compares a run")
        }
        if case .skip = entries.last {
            throw AlertingError(.invalidRules, "pattern '\(text)' ends with a wildcard: its last entry is matched against the newest run")
        }
        self.entries = entries
    }

    /// Whether the newest values (oldest first; nil where the run had no value) match.
    package func matches(_ values: [Double?]) -> Bool {
        Self.match(entries[...], values[...])
    }

    /// Matches from the newest end, a wildcard taking 0 to N runs.
    private static func match(_ entries: ArraySlice<Entry>, _ values: ArraySlice<Double?>) -> Bool {
        guard let last = entries.last else { return true }
        switch last {
        case .skip(let n):
            for k in 0...min(n, values.count) where match(entries.dropLast(), values.dropLast(k)) { return true }
            return false
        case .unknown:
            guard let v = values.last, v == nil else { return false }
            return match(entries.dropLast(), values.dropLast())
        case .compare(let op, let bound):
            guard let v = values.last, let value = v, op.holds(value, bound) else { return false }
            return match(entries.dropLast(), values.dropLast())
        }
    }
}

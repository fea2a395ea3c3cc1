import PathTSDB
import Yams

/// A YAML mapping read field by field, every error naming the line and column of what is wrong
/// and every key it was not asked about refused, so a typo never falls back to a default.
struct YAMLFields {
    let node: Node
    let mapping: Node.Mapping
    let source: String
    /// What the mapping is, for errors: "rule 'core-path'".
    let what: String

    init(_ node: Node, source: String, what: String) throws(AlertingError) {
        guard let m = node.mapping else {
            throw YAMLFields.error("\(what) must be a mapping of keys to values", at: node, source: source)
        }
        self.node = node
        mapping = m
        self.source = source
        self.what = what
    }

    /// No fields, for a condition written without settings (`destination_unreachable: true`);
    /// errors point at `node`.
    init(emptyAt node: Node, source: String, what: String) {
        self.node = node
        mapping = Node.Mapping([])
        self.source = source
        self.what = what
    }

    static func error(_ message: String, at node: Node?, source: String) -> AlertingError {
        AlertingError(.invalidRules, message, source: source, line: node?.mark?.line, column: node?.mark?.column)
    }

    func error(_ message: String, at node: Node? = nil) -> AlertingError {
        Self.error(message, at: node ?? self.node, source: source)
    }

    /// Refuses any key outside `allowed`, naming the ones that are.
    func only(_ allowed: [String]) throws(AlertingError) {
        for (key, _) in mapping {
            guard let k = key.string, allowed.contains(k) else {
                throw error("\(what): unknown key '\(key.string ?? "?")' (known: \(allowed.joined(separator: ", ")))", at: key)
            }
        }
    }

    var keys: [String] { mapping.compactMap { $0.key.string } }

    subscript(_ key: String) -> Node? { mapping[key] }

    func string(_ key: String) throws(AlertingError) -> String? {
        guard let n = self[key] else { return nil }
        guard let s = n.scalar?.string else { throw error("\(what): \(key) must be a single value", at: n) }
        return s
    }

    func requiredString(_ key: String) throws(AlertingError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw error("\(what): \(key) is required") }
        return s
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(AlertingError) -> Int? {
        guard let n = self[key] else { return nil }
        guard let s = n.scalar?.string, let v = Int(s), range.contains(v) else {
            throw error("\(what): \(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)", at: n)
        }
        return v
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws(AlertingError) -> Double? {
        guard let n = self[key] else { return nil }
        var text = n.scalar?.string ?? ""
        if text.hasSuffix("%") { text.removeLast() }
        if text.hasSuffix("ms") { text.removeLast(2) }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            func shown(_ v: Double) -> String { v == v.rounded() ? String(Int64(v)) : String(v) }
            throw error("\(what): \(key) must be a number from \(shown(range.lowerBound)) to \(shown(range.upperBound))", at: n)
        }
        return v
    }

    /// The duration under `key`, in µs; zero only where `allowingZero` (a hold-down of 0s is
    /// none, a window of 0s is a mistake).
    func duration(_ key: String, allowingZero: Bool = false) throws(AlertingError) -> Int64? {
        guard let n = self[key] else { return nil }
        guard let s = n.scalar?.string, let d = DurationText.parseMicros(s), d > 0 || (allowingZero && d == 0) else {
            throw error("\(what): \(key) must be a duration such as 30s, 5m or 1h", at: n)
        }
        return d
    }

    func strings(_ key: String) throws(AlertingError) -> [String] {
        guard let n = self[key] else { return [] }
        if let s = n.scalar?.string { return [s] }
        guard let seq = n.sequence else { throw error("\(what): \(key) must be a list of names", at: n) }
        var out = [String]()
        for item in seq {
            guard let s = item.scalar?.string else { throw error("\(what): every entry of \(key) must be a single value", at: item) }
            out.append(s)
        }
        return out
    }

    func stringMap(_ key: String) throws(AlertingError) -> [String: String] {
        guard let n = self[key] else { return [:] }
        guard let m = n.mapping else { throw error("\(what): \(key) must be a mapping of names to values", at: n) }
        var out = [String: String]()
        for (k, v) in m {
            guard let name = k.string, !name.isEmpty else { throw error("\(what): \(key) has a key that is not a name", at: k) }
            guard let value = v.scalar?.string else { throw error("\(what): \(key).\(name) must be a single value", at: v) }
            out[name] = value
        }
        return out
    }

    func bool(_ key: String) throws(AlertingError) -> Bool? {
        guard let n = self[key] else { return nil }
        guard let b = n.bool else { throw error("\(what): \(key) must be true or false", at: n) }
        return b
    }

    /// The entries of the list under `key`; none when the key is absent.
    func list(_ key: String) throws(AlertingError) -> [Node] {
        guard let n = self[key] else { return [] }
        guard let seq = n.sequence else { throw error("\(key) must be a list", at: n) }
        return Array(seq)
    }

    func fields(_ key: String, what name: String) throws(AlertingError) -> YAMLFields? {
        guard let n = self[key] else { return nil }
        return try YAMLFields(n, source: source, what: name)
    }
}

/// Reads a YAML document into its node tree; a syntax error names its line and column.
func composeYAML(_ text: String, source: String) throws(AlertingError) -> Node? {
    do {
        return try Yams.compose(yaml: text)
    } catch let e as YamlError {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            throw AlertingError(.invalidRules, "YAML: \(problem)", source: source, line: mark.line, column: mark.column)
        default:
            throw AlertingError(.invalidRules, "YAML: \(e)", source: source)
        }
    } catch {
        throw AlertingError(.invalidRules, "YAML: \(error)", source: source)
    }
}

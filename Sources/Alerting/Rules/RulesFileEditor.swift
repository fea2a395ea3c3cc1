import Yams

/// Edits a rules file's rules through the API: adds, replaces and removes one rule at a time,
/// each rule checked as the file's are, and gives the file's new text, which is read whole
/// again before it is written (so a file the server could not load is never written). The text
/// is written out from the file's YAML tree: keys and values stay, comments do not.
package struct RulesFileEditor {
    private var root: Node
    private let source: String

    package init(yaml: String, source: String) throws(AlertingError) {
        self.source = source
        let node = try composeYAML(yaml, source: source) ?? Node.mapping(Node.Mapping([]))
        _ = try YAMLFields(node, source: source, what: "the rules file")
        root = node
    }

    /// Reads a rule given as YAML or JSON (JSON is YAML), as the file's are.
    static func rule(from text: String, source: String = "request body") throws(AlertingError) -> (AlertRule, Node) {
        guard let node = try composeYAML(text, source: source) else {
            throw AlertingError(.invalidRules, "the rule is empty", source: source)
        }
        return (try RulesFile.parseRule(node, source: source), node)
    }

    private var rules: [Node] {
        root.mapping?["rules"]?.sequence.map(Array.init) ?? []
    }

    private mutating func setRules(_ list: [Node]) {
        guard var m = root.mapping else { return }
        m["rules"] = Node.sequence(Node.Sequence(list))
        root = Node.mapping(m)
    }

    private func index(of name: String) -> Int? {
        rules.firstIndex { $0.mapping?["name"]?.string == name }
    }

    /// Adds a rule; its name must be new.
    package mutating func add(_ text: String) throws(AlertingError) -> AlertRule {
        let (rule, node) = try Self.rule(from: text)
        guard index(of: rule.name) == nil else { throw AlertingError(.conflict, "rule '\(rule.name)' exists: PUT it to change it") }
        setRules(rules + [node])
        return rule
    }

    /// Replaces the rule `name` (the body's name must be the same, or absent).
    package mutating func replace(_ name: String, with text: String) throws(AlertingError) -> AlertRule {
        guard var node = try composeYAML(text, source: "request body"), var m = node.mapping else {
            throw AlertingError(.invalidRules, "the rule must be a mapping of keys to values", source: "request body")
        }
        if let given = m["name"]?.string, given != name {
            throw AlertingError(.invalidRules, "the body names rule '\(given)', the path '\(name)'", source: "request body")
        }
        m["name"] = Node(name)
        node = Node.mapping(m)
        let rule = try RulesFile.parseRule(node, source: "request body")
        guard let i = index(of: name) else { throw AlertingError(.notFound, "no rule '\(name)'") }
        var list = rules
        list[i] = node
        setRules(list)
        return rule
    }

    package mutating func remove(_ name: String) throws(AlertingError) {
        guard let i = index(of: name) else { throw AlertingError(.notFound, "no rule '\(name)'") }
        var list = rules
        list.remove(at: i)
        setRules(list)
    }

    /// The file's new text, and what it reads as (checked whole: routes, receivers and all).
    package func text() throws(AlertingError) -> (text: String, file: RulesFile) {
        let text: String
        do {
            text = try Yams.serialize(node: root, width: 100)
        } catch {
            throw AlertingError(.io, "the rules file cannot be written as YAML: \(error)", source: source)
        }
        return (text, try RulesFile.parse(text, source: source))
    }
}

import Yams

/// Reads the targets file's tree from the nodes libyaml composed: each level's keys checked
/// against those it allows, each value typed, every error at its line and column.
///
/// Not Yams' `Decodable` path: that resolved every scalar's tag with regular expressions and
/// found each key by a linear scan of its mapping, 4.4 s of a 5.2 s start with 100,000 targets.
struct TargetTreeReader {
    typealias Settings = TargetConfiguration.Settings
    let source: String

    static let settingKeys: Set<String> = Set(Settings.CodingKeys.allCases.map(\.rawValue))
    static let targetKeys: Set<String> = settingKeys.union(["name", "address"])
    static let groupKeys: Set<String> = settingKeys.union(["name", "targets", "groups"])
    static let fileKeys: Set<String> = ["defaults", "targets", "groups"]

    func file(_ root: Node) throws(ProbeError) -> TargetConfiguration.File {
        let top = try mapping(root, path: "", allowed: Self.fileKeys)
        var file = TargetConfiguration.File()
        if let d = top["defaults"] { file.defaults = try settings(try mapping(d, path: "defaults", allowed: Self.settingKeys), path: "defaults") }
        if let t = top["targets"] { file.targets = try list(t, path: "targets") { (n: Node, p: String) throws(ProbeError) in try target(n, path: p) } }
        if let g = top["groups"] { file.groups = try list(g, path: "groups") { (n: Node, p: String) throws(ProbeError) in try group(n, path: p) } }
        return file
    }

    private func target(_ node: Node, path: String) throws(ProbeError) -> TargetConfiguration.Target {
        let m = try mapping(node, path: path, allowed: Self.targetKeys)
        return TargetConfiguration.Target(name: try required(m, "name", node, path), address: try required(m, "address", node, path),
                                          settings: try settings(m, path: path))
    }

    private func group(_ node: Node, path: String) throws(ProbeError) -> TargetConfiguration.Group {
        let m = try mapping(node, path: path, allowed: Self.groupKeys)
        var g = TargetConfiguration.Group(name: try required(m, "name", node, path), settings: try settings(m, path: path))
        if let t = m["targets"] { g.targets = try list(t, path: path + ".targets") { (n: Node, p: String) throws(ProbeError) in try target(n, path: p) } }
        if let s = m["groups"] { g.groups = try list(s, path: path + ".groups") { (n: Node, p: String) throws(ProbeError) in try group(n, path: p) } }
        return g
    }

    private func settings(_ m: [String: Node], path: String) throws(ProbeError) -> Settings {
        func at(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
        func text(_ key: String) throws(ProbeError) -> String? { try m[key].flatMap { n throws(ProbeError) in try scalar(n, path: at(key)) } }
        func int(_ key: String) throws(ProbeError) -> Int? {
            guard let n = m[key], let s = try scalar(n, path: at(key)) else { return nil }
            guard let v = Int(s) else { throw fail("expected an integer, found \"\(s)\"", at: n, path: at(key)) }
            return v
        }
        func port(_ key: String) throws(ProbeError) -> UInt16? {
            guard let v = try int(key) else { return nil }
            guard let p = UInt16(exactly: v) else { throw fail("\(v) is not 0 to 65535", at: m[key], path: at(key)) }
            return p
        }
        var s = Settings()
        s.method = try text("method")
        s.tool = try text("tool")
        s.interval = try text("interval")
        s.probes = try int("probes")
        s.firstTTL = try int("first_ttl")
        s.maxTTL = try int("max_ttl")
        s.wait = try text("wait")
        s.flow = try port("flow")
        s.port = try port("port")
        if let n = m["mda"], let t = try scalar(n, path: at("mda")) {
            guard let v = Double(t) else { throw fail("expected a number, found \"\(t)\"", at: n, path: at("mda")) }
            s.mda = v
        }
        if let n = m["hop_metrics"], let t = try scalar(n, path: at("hop_metrics")) {
            switch t {
            case "true", "True", "TRUE", "yes": s.hopMetrics = true
            case "false", "False", "FALSE", "no": s.hopMetrics = false
            default: throw fail("expected true or false, found \"\(t)\"", at: n, path: at("hop_metrics"))
            }
        }
        if let n = m["tags"] {
            s.tags = try list(n, path: at("tags")) { (item: Node, p: String) throws(ProbeError) in
                guard let t = try scalar(item, path: p) else { throw fail("expected a tag", at: item, path: p) }
                return t
            }
        }
        return s
    }

    // MARK: - Nodes

    /// A mapping's values by key, every key checked against `allowed`.
    private func mapping(_ node: Node, path: String, allowed: Set<String>) throws(ProbeError) -> [String: Node] {
        guard case .mapping(let m) = node else { throw fail("expected a mapping (key: value)", at: node, path: path) }
        var out = [String: Node](minimumCapacity: m.count)
        for (k, v) in m {
            guard case .scalar(let key) = k else { throw fail("expected a key", at: k, path: path) }
            guard allowed.contains(key.string) else {
                throw fail("unknown key \"\(key.string)\" (expected one of \(allowed.sorted().joined(separator: ", ")))", at: k, path: path)
            }
            guard out.updateValue(v, forKey: key.string) == nil else { throw fail("key \"\(key.string)\" given twice", at: k, path: path) }
        }
        return out
    }

    private func list<T>(_ node: Node, path: String, _ item: (Node, String) throws(ProbeError) -> T) throws(ProbeError) -> [T] {
        if isNull(node) { return [] }
        guard case .sequence(let s) = node else { throw fail("expected a list", at: node, path: path) }
        var out = [T]()
        out.reserveCapacity(s.count)
        for (i, n) in s.enumerated() { out.append(try item(n, "\(path)[\(i)]")) }
        return out
    }

    /// A scalar's text; nil for a null (`~`, `null` or nothing).
    private func scalar(_ node: Node, path: String) throws(ProbeError) -> String? {
        guard case .scalar(let s) = node else { throw fail("expected a single value", at: node, path: path) }
        return isNull(node) ? nil : s.string
    }

    private func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return s.string.isEmpty || s.string == "~" || s.string == "null" || s.string == "Null" || s.string == "NULL"
    }

    private func required(_ m: [String: Node], _ key: String, _ node: Node, _ path: String) throws(ProbeError) -> String {
        let at = path.isEmpty ? key : path + "." + key
        guard let n = m[key], let s = try scalar(n, path: at) else { throw fail("missing", at: node, path: at) }
        return s
    }

    private func fail(_ message: String, at node: Node?, path: String) -> ProbeError {
        ProbeError(.malformedInput, path.isEmpty ? message : "\(path): \(message)", source: source,
                   line: node?.mark?.line, column: node?.mark?.column)
    }
}

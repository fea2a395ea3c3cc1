import Foundation
import Yams

/// One target as the HTTP API takes and gives it: its full name (`core/gw`, the group path
/// first) and the settings written on it. Settings left out are inherited from its groups.
package struct TargetSpec: Codable, Sendable, Equatable {
    package var name: String
    package var address: String
    package var method: String?
    package var tool: String?
    package var interval: String?
    package var probes: Int?
    package var firstTTL: Int?
    package var maxTTL: Int?
    package var wait: String?
    package var flow: Int?
    package var port: Int?
    package var tags: [String]?
    package var mda: Double?
    package var hopMetrics: Bool?

    enum CodingKeys: String, CodingKey {
        case name, address, method, tool, interval, probes, wait, flow, port, tags, mda
        case firstTTL = "first_ttl", maxTTL = "max_ttl", hopMetrics = "hop_metrics"
    }

    package init(name: String, address: String) {
        self.name = name
        self.address = address
    }

    /// The settings, checked where a number must fit its field (the rest is checked with the
    /// whole file).
    func settings(source: String) throws(ProbeError) -> TargetConfiguration.Settings {
        func port16(_ v: Int?, _ key: String) throws(ProbeError) -> UInt16? {
            guard let v else { return nil }
            guard (0...65535).contains(v) else { throw ProbeError(.malformedInput, "target \(name): \(key) \(v) is not 0 to 65535", source: source) }
            return UInt16(v)
        }
        return .init(method: method, tool: tool, interval: interval, probes: probes, firstTTL: firstTTL, maxTTL: maxTTL,
                     wait: wait, flow: try port16(flow, "flow"), port: try port16(port, "port"), tags: tags, mda: mda,
                     hopMetrics: hopMetrics)
    }
}

/// Edits a targets file: adds, changes and removes targets in its group tree, checks the result
/// as the monitor would read it, and renders it back to YAML. Comments in the file do not
/// survive an edit (YAML is re-rendered from the tree).
package struct TargetFileEditor: Sendable {
    private var file: TargetConfiguration.File
    private let source: String

    /// The editor of the file whose text is `yaml`.
    package init(yaml: String, source: String = "targets") throws(ProbeError) {
        file = try TargetConfiguration.decode(yaml, source: source)
        self.source = source
    }

    /// Adds a target; its group path is created as needed.
    /// - Throws: `ProbeError` when a target of that name exists or the result does not check.
    package mutating func add(_ spec: TargetSpec) throws(ProbeError) {
        let (groups, leaf) = try split(spec.name)
        guard !contains(spec.name) else { throw ProbeError(.conflict, "target \(spec.name) exists already", source: source) }
        let target = TargetConfiguration.Target(name: leaf, address: spec.address, settings: try spec.settings(source: source))
        if groups.isEmpty {
            file.targets = (file.targets ?? []) + [target]
        } else {
            var top = file.groups ?? []
            TargetFileEditor.insert(target, path: groups[...], into: &top)
            file.groups = top
        }
        _ = try check()
    }

    /// Replaces the address and settings of the target named `spec.name`.
    package mutating func update(_ spec: TargetSpec) throws(ProbeError) {
        try remove(spec.name)
        try add(spec)
    }

    /// Removes the target named `name`; empty groups stay (they may carry settings).
    package mutating func remove(_ name: String) throws(ProbeError) {
        let (groups, leaf) = try split(name)
        var found = false
        if groups.isEmpty {
            let before = file.targets?.count ?? 0
            file.targets?.removeAll { $0.name == leaf }
            found = (file.targets?.count ?? 0) < before
        } else {
            var top = file.groups ?? []
            found = TargetFileEditor.remove(leaf, path: groups[...], from: &top)
            file.groups = top
        }
        guard found else { throw ProbeError(.notFound, "no target named \(name)", source: source) }
    }

    /// The targets as the monitor would schedule them.
    package func check() throws(ProbeError) -> [ScheduledTarget] {
        try TargetConfiguration.resolve(file, source: source)
    }

    /// The file as YAML.
    package func yaml() throws(ProbeError) -> String {
        do {
            return "# Written by stserver; edit freely, comments are not kept on the next edit through the API.\n"
                + (try YAMLEncoder().encode(file))
        } catch {
            throw ProbeError(.malformedInput, "cannot render the targets file: \(error)", source: source)
        }
    }

    /// Writes `yaml()` to `path` atomically (a temporary file renamed over it).
    package func write(to path: String) throws(ProbeError) {
        let text = try yaml()
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ProbeError(.io, "cannot write: \(error.localizedDescription)", source: path)
        }
    }

    // MARK: - Tree walking

    private func split(_ name: String) throws(ProbeError) -> ([String], String) {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let leaf = parts.last, !parts.contains(where: \.isEmpty) else {
            throw ProbeError(.malformedInput, "target name \"\(name)\" has an empty part", source: source)
        }
        return (Array(parts.dropLast()), leaf)
    }

    private func contains(_ name: String) -> Bool {
        (try? check())?.contains { $0.name == name } ?? false
    }

    private static func insert(_ t: TargetConfiguration.Target, path: ArraySlice<String>, into groups: inout [TargetConfiguration.Group]) {
        guard let first = path.first else { return }
        let i = groups.firstIndex { $0.name == first } ?? {
            groups.append(TargetConfiguration.Group(name: first))
            return groups.count - 1
        }()
        if path.count == 1 {
            groups[i].targets.append(t)
        } else {
            insert(t, path: path.dropFirst(), into: &groups[i].groups)
        }
    }

    private static func remove(_ leaf: String, path: ArraySlice<String>, from groups: inout [TargetConfiguration.Group]) -> Bool {
        guard let first = path.first, let i = groups.firstIndex(where: { $0.name == first }) else { return false }
        if path.count == 1 {
            let before = groups[i].targets.count
            groups[i].targets.removeAll { $0.name == leaf }
            return groups[i].targets.count < before
        }
        return remove(leaf, path: path.dropFirst(), from: &groups[i].groups)
    }
}

// MARK: - Encoding

extension TargetConfiguration.Settings {
    /// Writes the settings that are set into `c`, beside the node's own keys.
    func encode(into c: inout KeyedEncodingContainer<TargetConfiguration.AnyKey>) throws {
        func put<T: Encodable>(_ v: T?, _ k: CodingKeys) throws {
            if let v { try c.encode(v, forKey: .init(stringValue: k.rawValue)) }
        }
        try put(method, .method)
        try put(tool, .tool)
        try put(interval, .interval)
        try put(probes, .probes)
        try put(firstTTL, .firstTTL)
        try put(maxTTL, .maxTTL)
        try put(wait, .wait)
        try put(flow, .flow)
        try put(port, .port)
        try put(mda, .mda)
        try put(hopMetrics, .hopMetrics)
        if let tags, !tags.isEmpty { try c.encode(tags, forKey: .init(stringValue: CodingKeys.tags.rawValue)) }
    }
}

extension TargetConfiguration.Target: Encodable {
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: TargetConfiguration.AnyKey.self)
        try c.encode(name, forKey: .init(stringValue: "name"))
        try c.encode(address, forKey: .init(stringValue: "address"))
        try settings.encode(into: &c)
    }
}

extension TargetConfiguration.Group: Encodable {
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: TargetConfiguration.AnyKey.self)
        try c.encode(name, forKey: .init(stringValue: "name"))
        try settings.encode(into: &c)
        if !targets.isEmpty { try c.encode(targets, forKey: .init(stringValue: "targets")) }
        if !groups.isEmpty { try c.encode(groups, forKey: .init(stringValue: "groups")) }
    }
}

extension TargetConfiguration.File: Encodable {
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: TargetConfiguration.AnyKey.self)
        if let defaults {
            var d = c.nestedContainer(keyedBy: TargetConfiguration.AnyKey.self, forKey: .init(stringValue: "defaults"))
            try defaults.encode(into: &d)
        }
        if let targets, !targets.isEmpty { try c.encode(targets, forKey: .init(stringValue: "targets")) }
        if let groups, !groups.isEmpty { try c.encode(groups, forKey: .init(stringValue: "groups")) }
    }
}

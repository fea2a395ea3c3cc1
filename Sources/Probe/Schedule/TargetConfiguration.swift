import PathTSDB
import Yams

/// One target as the monitor traces it: every setting resolved from its group tree.
package struct ScheduledTarget: Sendable, Equatable {
    /// The target's name in the store: its group path and name, `core/gw`.
    package var name: String
    /// What the tracer is pointed at.
    package var address: TargetName
    package var tool: TracerTool
    package var settings: TraceSettings
    package var intervalMicros: Int64
    package var tags: [String]
    /// Whether `/metrics` carries this target's per-hop series (`hop_metrics: true`).
    package var hopMetrics: Bool = false
}

/// The targets file (YAML): a tree of groups like SmokePing's Targets section. Settings given on
/// a group hold for everything below it unless a subgroup or target says otherwise.
///
/// ```yaml
/// defaults: { method: udp-paris, interval: 60s, probes: 3, max_ttl: 30 }
/// groups:
///   - name: core
///     interval: 30s
///     tags: [dc1]
///     targets:
///       - { name: gw, address: 192.0.2.1 }
///       - { name: web, address: www.example.net, method: icmp-paris }
///     groups:
///       - name: edge
///         targets: [{ name: peer, address: 198.51.100.7 }]
/// ```
///
/// Errors name the target or group and what is wrong; an unknown key is an error too, so a typo
/// never silently falls back to a default.
package enum TargetConfiguration {
    struct Settings: Encodable, Equatable, Sendable {
        var method: String?
        var tool: String?
        var interval: String?
        var probes: Int?
        var firstTTL: Int?
        var maxTTL: Int?
        var wait: String?
        var flow: UInt16?
        var port: UInt16?
        var tags: [String]?
        var mda: Double?
        var hopMetrics: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case method, tool, interval, probes, tags, wait, flow, port, mda
            case firstTTL = "first_ttl", maxTTL = "max_ttl", hopMetrics = "hop_metrics"
        }

        func overridden(by o: Settings) -> Settings {
            Settings(method: o.method ?? method, tool: o.tool ?? tool, interval: o.interval ?? interval, probes: o.probes ?? probes,
                     firstTTL: o.firstTTL ?? firstTTL, maxTTL: o.maxTTL ?? maxTTL, wait: o.wait ?? wait, flow: o.flow ?? flow,
                     port: o.port ?? port, tags: (tags ?? []) + (o.tags ?? []), mda: o.mda ?? mda,
                     hopMetrics: o.hopMetrics ?? hopMetrics)
        }
    }

    struct Target: Sendable {
        init(name: String, address: String, settings: Settings) {
            self.name = name
            self.address = address
            self.settings = settings
        }

        var name: String
        var address: String
        var settings: Settings
    }

    struct Group: Sendable {
        init(name: String, settings: Settings = Settings(), targets: [Target] = [], groups: [Group] = []) {
            self.name = name
            self.settings = settings
            self.targets = targets
            self.groups = groups
        }

        var name: String
        var settings: Settings
        var targets: [Target]
        var groups: [Group]
    }

    struct File: Sendable {
        var defaults: Settings?
        var targets: [Target]?
        var groups: [Group]?
    }

    /// A key of any name, for encoding the tree back to YAML.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The targets of a YAML targets file, settings resolved, in file order.
    package static func parse(_ yaml: String, source: String = "targets") throws(ProbeError) -> [ScheduledTarget] {
        try resolve(try decode(yaml, source: source), source: source)
    }

    /// The file's tree as written, settings not yet resolved.
    static func decode(_ yaml: String, source: String) throws(ProbeError) -> File {
        do {
            // Syntax first, where libyaml's marks give the line and column; then the tree it
            // built is read, each error at its own line and column.
            // The basic resolver: the reader takes every scalar as its text, so the default
            // resolver's regular expressions per scalar (a third of loading 100,000 targets)
            // would decide tags nothing reads.
            guard let node = try Yams.compose(yaml: yaml, .basic) else {
                throw ProbeError(.malformedInput, "the targets file is empty (it needs targets: or groups:)", source: source)
            }
            return try TargetTreeReader(source: source).file(node)
        } catch let e as ProbeError {
            throw e
        } catch let e as YamlError {
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                throw ProbeError(.malformedInput, "YAML: \(problem)", source: source, line: mark.line, column: mark.column)
            default:
                throw ProbeError(.malformedInput, "YAML: \(e)", source: source)
            }
        } catch {
            throw ProbeError(.malformedInput, "\(error)", source: source)
        }
    }

    /// Every target of a decoded file with its settings resolved down the group tree.
    static func resolve(_ file: File, source: String) throws(ProbeError) -> [ScheduledTarget] {
        let base = Settings(method: "udp-paris", tool: nil, interval: "60s", probes: 3, firstTTL: 1, maxTTL: 30, wait: "1s",
                            flow: nil, port: 80, tags: []).overridden(by: file.defaults ?? Settings())
        var out = [ScheduledTarget]()
        var names = Set<String>()
        func add(_ t: Target, path: [String], inherited: Settings) throws(ProbeError) {
            let name = (path + [t.name]).joined(separator: "/")
            guard names.insert(name).inserted else { throw ProbeError(.malformedInput, "target \(name) is defined twice", source: source) }
            out.append(try resolve(t, name: name, settings: inherited.overridden(by: t.settings), source: source))
        }
        func walk(_ g: Group, path: [String], inherited: Settings) throws(ProbeError) {
            guard !g.name.isEmpty, !g.name.contains("/") else { throw ProbeError(.malformedInput, "group name \"\(g.name)\" is empty or has a '/'", source: source) }
            let here = inherited.overridden(by: g.settings)
            for t in g.targets { try add(t, path: path + [g.name], inherited: here) }
            for sub in g.groups { try walk(sub, path: path + [g.name], inherited: here) }
        }
        for t in file.targets ?? [] { try add(t, path: [], inherited: base) }
        for g in file.groups ?? [] { try walk(g, path: [], inherited: base) }
        return out
    }

    private static func resolve(_ t: Target, name: String, settings s: Settings, source: String) throws(ProbeError) -> ScheduledTarget {
        func fail(_ message: String) -> ProbeError { ProbeError(.malformedInput, "target \(name): \(message)", source: source) }
        guard let methodName = s.method, let method = TraceMethod(name: methodName), method != .unknown else {
            throw fail("unknown method \"\(s.method ?? "")\" (expected udp, icmp, tcp, udp-paris, icmp-paris or tcp-paris)")
        }
        let tool: TracerTool
        if let name = s.tool {
            guard let t = TracerTool(rawValue: name) else { throw fail("unknown tool \"\(name)\"") }
            tool = t
        } else {
            tool = TracerTool.defaultTool(for: method)
        }
        guard let interval = s.interval.flatMap(DurationText.parseMicros), interval >= 1_000_000 else {
            throw fail("interval \"\(s.interval ?? "")\" is not a duration of at least 1s (such as 60s, 5m)")
        }
        guard let wait = s.wait.flatMap(DurationText.parseMicros), (1000...60_000_000).contains(wait) else {
            throw fail("wait \"\(s.wait ?? "")\" is not a duration from 1ms to 60s (such as 500ms, 2s)")
        }
        var settings = TraceSettings(method: method)
        settings.probesPerHop = s.probes ?? 3
        settings.firstTTL = s.firstTTL ?? 1
        settings.maxTTL = s.maxTTL ?? 30
        settings.waitMilliseconds = Int(wait / 1000)
        settings.flowID = s.flow
        settings.tcpPort = s.port ?? 80
        if let mda = s.mda {
            guard mda > 0 && mda < 1 else { throw fail("mda is a confidence between 0 and 1, such as 0.95") }
            guard tool == .native else { throw fail("mda needs the native prober (tool: native)") }
            settings.mdaConfidence = mda
        }
        guard (1...10).contains(settings.probesPerHop) else { throw fail("probes must be 1 to 10") }
        guard (1...255).contains(settings.firstTTL), (settings.firstTTL...255).contains(settings.maxTTL) else {
            throw fail("first_ttl and max_ttl must satisfy 1 ≤ first_ttl ≤ max_ttl ≤ 255")
        }
        let address: TargetName
        do { address = try TargetName(t.address) } catch { throw fail(error.message) }
        // What can be known now is refused now, not found failing at every run: a tool that
        // cannot send the method, and mtr (whose raw output does not name the destination)
        // pointed at a name.
        if tool == .native {
            guard method.pinsFlow else { throw fail("the native prober sends udp-paris, icmp-paris and tcp-paris, not \(method)") }
        } else {
            do { _ = try SystemTracer(tool: tool).arguments(target: address, settings: settings) } catch { throw fail(error.message) }
            if tool == .mtr && IPAddress(address.text) == nil {
                throw fail("mtr needs an address, not the name \"\(address.text)\" (its raw output does not say what the name resolved to)")
            }
        }
        return ScheduledTarget(name: name, address: address, tool: tool, settings: settings, intervalMicros: interval, tags: s.tags ?? [],
                               hopMetrics: s.hopMetrics ?? false)
    }
}

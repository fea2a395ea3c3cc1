import Alerting
import Dispatch
import Probe
import Synchronization

/// The rules file of a server or monitor and the engine that applies it. A reload reads the
/// whole file first: a file with an error is reported and the rules in force stay.
final class RuleSet: Sendable {
    let path: String
    let engine: AlertEngine

    init(path: String, engine: AlertEngine) {
        self.path = path
        self.engine = engine
    }

    static func read(_ path: String) throws -> RulesFile {
        try RulesFile.parse(try readFile(path), source: path)
    }

    /// Re-reads the file; returns the number of rules now in force.
    @discardableResult
    func reload() async throws -> Int {
        let path = self.path
        let file = try await offload { try RuleSet.read(path) }
        engine.reload(file)
        return file.rules.count
    }

    /// The targets as the rules see them, from the targets file (or, without one, the store).
    static func alertTargets(_ targets: [ScheduledTarget]) -> [AlertTarget] {
        targets.map { AlertTarget(name: $0.name, tags: $0.tags, intervalMicros: $0.intervalMicros) }
    }
}

/// The monitor command's targets as last read, shared with the alert evaluation.
final class CurrentTargets: Sendable {
    private let list: Mutex<[ScheduledTarget]>
    init(_ targets: [ScheduledTarget]) { list = Mutex(targets) }
    var targets: [ScheduledTarget] { list.withLock { $0 } }
    func replace(_ targets: [ScheduledTarget]) { list.withLock { $0 = targets } }
}

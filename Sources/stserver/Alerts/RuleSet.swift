import Alerting
import Dispatch
import Foundation
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

    /// Edits and reloads of the file run here, one after the other, off the cooperative pool.
    private let fileQueue = DispatchQueue(label: "smoketrace.rules-file")

    /// Applies `edit` to the file, checks the whole result, writes it (a temporary file
    /// renamed over it) and puts it in force; returns what the edit returned.
    func edit<T: Sendable>(_ edit: @escaping @Sendable (inout RulesFileEditor) throws -> T) async throws -> T {
        let path = self.path, engine = self.engine
        return try await withCheckedThrowingContinuation { continuation in
            fileQueue.async {
                continuation.resume(with: Result {
                    var editor = try RulesFileEditor(yaml: try readFile(path), source: path)
                    let result = try edit(&editor)
                    let (text, file) = try editor.text()
                    let tmp = path + ".tmp"
                    try text.write(toFile: tmp, atomically: false, encoding: .utf8)
                    guard rename(tmp, path) == 0 else {
                        throw AlertingError(.io, "cannot replace \(path): \(String(cString: strerror(errno)))")
                    }
                    engine.reload(file)
                    return result
                })
            }
        }
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

import Dispatch
import HTTPTypes
import Probe
import Synchronization

/// The server's targets: the targets file, the targets read from it, and the monitor that
/// traces them. Edits through the API rewrite the file and reload the monitor, one at a time.
final class TargetRegistry: Sendable {
    /// The targets file; nil when the server runs without one (queries and ingest only).
    let path: String?
    private let current: Mutex<[ScheduledTarget]>
    private let monitor: Monitor?
    /// Told of every list of targets installed, the first one included (the per-hop metrics).
    private let onInstall: @Sendable ([ScheduledTarget]) -> Void
    /// Edits and reloads run here, one after the other, off the cooperative pool: each reads
    /// and writes the file, and no lock is held while it does.
    private let fileQueue = DispatchQueue(label: "smoketrace.targets-file")

    init(path: String?, monitor: Monitor?, onInstall: @escaping @Sendable ([ScheduledTarget]) -> Void = { _ in }) throws {
        self.path = path
        self.monitor = monitor
        self.onInstall = onInstall
        let list = try path.map { try TargetConfiguration.parse(try readFile($0), source: $0) } ?? []
        current = Mutex(list)
        onInstall(list)
    }

    var targets: [ScheduledTarget] { current.withLock { $0 } }

    /// Tags by target name, for the query language.
    var tags: [String: [String]] {
        Dictionary(targets.map { ($0.name, $0.tags) }, uniquingKeysWith: { a, _ in a })
    }

    /// Re-reads the file (SIGHUP, `POST /api/v1/reload`); a file with errors leaves the old
    /// targets in place and is reported.
    @discardableResult
    func reload() async throws -> Int {
        guard let path else { return 0 }
        return try await onFileQueue {
            let list = try TargetConfiguration.parse(try readFile(path), source: path)
            self.install(list)
            return list.count
        }
    }

    /// Applies `edit` to the file, checks the result, writes it and reloads.
    func edit(_ edit: @escaping @Sendable (inout TargetFileEditor) throws -> Void) async throws -> [ScheduledTarget] {
        guard let path else {
            throw APIError(.conflict, "the server has no targets file: start it with --config FILE to manage targets")
        }
        return try await onFileQueue {
            var editor = try TargetFileEditor(yaml: try readFile(path), source: path)
            try edit(&editor)
            let updated = try editor.check()
            try editor.write(to: path)
            self.install(updated)
            return updated
        }
    }

    private func install(_ list: [ScheduledTarget]) {
        current.withLock { $0 = list }
        monitor?.reload(list)
        onInstall(list)
    }

    private func onFileQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            fileQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

import Foundation
import PathTSDB

/// A store of `runs` in a temporary directory, for `body` to read; closed and removed after.
func withStore<T>(_ runs: [TraceRun], _ body: (PathStore) throws -> T) throws -> T {
    let dir = NSTemporaryDirectory() + "webui-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var o = StoreOptions()
    o.walSync = .never
    let store = try PathStore(directory: dir, options: o)
    defer { try? store.close() }
    try store.append(runs)
    return try body(store)
}

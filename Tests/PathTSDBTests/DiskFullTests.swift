import Foundation
import Testing
@testable import PathTSDB

/// Runs a command and returns its exit status.
@discardableResult
func run(_ path: String, _ args: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

@Suite(.serialized, .needsRoot) struct DiskFullTests {
    /// A real full file system: a 1 MiB tmpfs (the tests run as root, as CI does).
    @Test func aFullDiskIsAClearErrorAndLosesNothingAcknowledged() throws {
        let dir = TemporaryDirectory("pathtsdb-full")
        defer {
            _ = try? run("/bin/umount", [dir.path])
            dir.remove()
        }
        try #require(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.path]) == 0, "mounting a tmpfs needs root")
        var o = StoreOptions()
        o.walSync = .always
        o.headCutProbes = 20_000
        var acknowledged = [TraceRun]()
        var failure: StorageError?
        do {
            let store = try PathStore(directory: dir.path + "/data", options: o)
            let runs = RunFactory.runs(count: 60_000, seed: 99)
            for start in stride(from: 0, to: runs.count, by: 100) {
                let batch = Array(runs[start..<(start + 100)])
                do {
                    try store.append(batch)
                    acknowledged += batch
                } catch {
                    failure = error
                    break
                }
            }
            // Dropped without close, as a crash would leave it, once the cut in flight is done
            // (until then the cutter holds the store, and the directory stays locked).
            store.waitForCuts()
        }
        let error = try #require(failure, "1 MiB should fill up")
        #expect(error.code == .diskFull)
        #expect(error.file?.hasPrefix(dir.path + "/data/") == true)
        #expect(!acknowledged.isEmpty)

        try #require(try run("/bin/mount", ["-o", "remount,size=64m", dir.path]) == 0)
        let store = try PathStore(directory: dir.path + "/data", options: o)
        expectSameRuns(store.snapshot().allTraceRuns(), acknowledged)
        try store.close()
    }
}

import Foundation
import Testing
import PathTSDB
@testable import Probe

/// The monitor's write queue appends the runs that finish together as one batch (one WAL record,
/// one sync) and hands each trace back its own run.
@Suite struct StoreWriteQueueTests {
    static func run(_ target: String, at second: Int64) -> TraceRun {
        let start = 1_795_284_000_000_000 + second * 1_000_000
        let hop = IPAddress(v4: 0x0A63_0001), destination = IPAddress(v4: 0x0A63_0002)
        return TraceRun(target: target, vantage: "vp", method: .udpParis, flowID: 1, startMicros: start, endMicros: start + 1000,
                        destination: destination, reached: true,
                        probes: [ProbeReply(ttl: 1, address: hop, rttMicros: 100), ProbeReply(ttl: 2, address: destination, rttMicros: 200)])
    }

    @Test(arguments: [WALSyncPolicy.always, .never])
    func eachTraceGetsItsOwnRunBackFromASharedBatch(sync: WALSyncPolicy) async throws {
        let dir = NSTemporaryDirectory() + "/write-queue-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = StoreOptions()
        o.walSync = sync
        let store = try PathStore(directory: dir, options: o)
        let queue = StoreWriteQueue(store: store)
        let runs = (0..<200).map { Self.run("t\($0 % 50)", at: Int64($0 / 50)) }
        #expect(try store.append([runs[0]]).runs.count == 1)
        // 200 traces finish while the queue is busy (held here by a job that waits for them);
        // the first was stored before, so it comes back empty.
        let release = DispatchSemaphore(value: 0)
        let busy = Task { try await queue.run { release.wait() } }
        let tables = await withTaskGroup(of: (Int, Result<RunTable, any Error>).self) { group in
            for (i, run) in runs.enumerated() {
                group.addTask {
                    do { return (i, .success(try await queue.append(run))) } catch { return (i, .failure(error)) }
                }
            }
            while queue.pendingCount < runs.count { await Task.yield() }
            release.signal()
            var out = [Int: RunTable]()
            for await (i, result) in group { out[i] = try? result.get() }
            return out
        }
        try await busy.value
        #expect(tables.count == 200)
        let catalog = store.snapshot().catalog
        for (i, run) in runs.enumerated() {
            let table = try #require(tables[i])
            if i == 0 {
                #expect(table.runs.isEmpty, "held already")
                continue
            }
            #expect(table.runs.count == 1)
            #expect(table.runs.first.flatMap { catalog.name(of: $0.target) } == run.target)
            #expect(table.runs.first?.startMicros == run.startMicros)
            #expect(table.probes.count == 2)
        }
        #expect(store.snapshot().head.count == 2, "the first run, then one append for the 199 that finished together")
        #expect(store.snapshot().head.reduce(0) { $0 + $1.table.runs.count } == 200)
        // A run the store cannot hold is refused alone, before it joins a batch.
        var bad = Self.run("bad", at: 9)
        bad.probes.reverse()
        await #expect(throws: StorageError.self) { try await queue.append(bad) }
        try store.close()
    }
}

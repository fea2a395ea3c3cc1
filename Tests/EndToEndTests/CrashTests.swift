import Foundation
import Testing
@testable import PathTSDB

/// Kills a real writer process with SIGKILL at random points (appends, head cuts, compaction,
/// retention), many times over, and checks after each restart that every batch acknowledged
/// before a kill is in the store exactly once. Each restart writes again, first, the batch that
/// was not acknowledged when the kill came (it may or may not have reached the WAL), as a client
/// that lost an answer would.
@Suite(.serialized) struct CrashTests {
    @Test func everyAcknowledgedWriteSurvivesSIGKILLExactlyOnce() throws {
        let dir = TemporaryDirectory("smoketrace-crash")
        defer { dir.remove() }
        var seed: UInt64 = 0x5EED
        func random(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        var acknowledged = Set<Int>()
        var nextBatch = 0
        // Batches before this may have been dropped by retention.
        var retainedFrom = 0
        // 25 in the suite; scripts/kill-campaign runs 1,000.
        let rounds = ProcessInfo.processInfo.environment["SMOKETRACE_KILL_ROUNDS"].flatMap(Int.init) ?? 25
        for round in 0..<rounds {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: stserverPath)
            p.arguments = ["crash-writer", "--data", dir.path, "--first-batch", String(nextBatch)]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
            // Let it acknowledge a random number of batches, then kill it wherever it is.
            let target = 1 + random(60)
            var buffer = Data()
            var acks = 0
            let reader = out.fileHandleForReading
            while acks < target {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...nl)
                    if line.hasPrefix("ack "), let n = Int(line.dropFirst(4)) {
                        acknowledged.insert(n)
                        nextBatch = max(nextBatch, n + 1)
                        acks += 1
                    } else if line.hasPrefix("retain "), let n = Int(line.dropFirst(7)) {
                        retainedFrom = max(retainedFrom, n)
                    }
                }
            }
            #expect(acks >= target, "round \(round): the writer stopped early")
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // Acks already in the pipe were acknowledged before the kill too.
            buffer.append(reader.readDataToEndOfFile())
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
                if line.hasPrefix("ack "), let n = Int(line.dropFirst(4)) { acknowledged.insert(n); nextBatch = max(nextBatch, n + 1) }
                if line.hasPrefix("retain "), let n = Int(line.dropFirst(7)) { retainedFrom = max(retainedFrom, n) }
            }
            try verify(dir.path, acknowledged: acknowledged.filter { $0 >= retainedFrom }, round: round)
        }
        #expect(acknowledged.count > 300 && retainedFrom > 0, "kills landed after retention began: \(acknowledged.count) batches, retained from \(retainedFrom)")
    }

    func verify(_ path: String, acknowledged: Set<Int>, round: Int) throws {
        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: path, options: o)
        defer { try? store.close() }
        let snap = store.snapshot()
        var seen = [Int64: Int]()
        for (id, _) in snap.catalog.targets {
            let (table, problems) = snap.runs(of: id, in: Int64.min..<Int64.max)
            #expect(problems.isEmpty, "round \(round): \(problems)")
            for r in table.runs { seen[r.startMicros, default: 0] += 1 }
        }
        let duplicates = seen.filter { $0.value > 1 }
        #expect(duplicates.isEmpty, "round \(round): \(duplicates.count) runs stored twice")
        let missing = acknowledged.filter { n in
            (0..<5).contains { k in seen[(1_795_284_000 + Int64(n) * 60) * 1_000_000 + Int64(k)] == nil }
        }
        #expect(missing.isEmpty, "round \(round): acknowledged batches missing: \(missing.sorted().prefix(10))")
        // Every stored batch is whole: a batch is one WAL record, never half applied.
        let batches = Dictionary(grouping: seen.keys) { ($0 / 1_000_000 - 1_795_284_000) / 60 }
        #expect(batches.values.allSatisfy { $0.count == 5 }, "round \(round): a partial batch")
        #expect(store.recovery.problems.allSatisfy { $0.code == .corruption && $0.file?.contains("/wal/") == true },
                "round \(round): \(store.recovery.problems)")
    }
}

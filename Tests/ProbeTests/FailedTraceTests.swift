import Foundation
import Testing
import PathTSDB
@testable import Probe

@Suite struct FailedTraceTests {
    /// A trace that cannot run is data: stored as a failed run with what failed, not only
    /// logged. (The tool here is a program that does not exist.)
    @Test func aTraceThatFailsIsStoredWithItsReason() async throws {
        let dir = NSTemporaryDirectory() + "/failed-trace-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: dir, options: o)
        let targets = try TargetConfiguration.parse("""
            defaults: { interval: 1s, probes: 1, max_ttl: 2, wait: 100ms }
            targets: [{ name: nowhere, address: 127.0.0.1, tool: traceroute, method: udp }]
            """)
        let monitor = Monitor(store: store, vantage: "here", commandPrefix: ["/nonexistent/smoketrace-test-tool"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await monitor.run(targets: targets) }
            group.addTask {
                // Until the first failure is counted (it is recorded before it is counted), at most 10 s.
                let deadline = ContinuousClock.now + .seconds(10)
                while monitor.counters.failed == 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
                monitor.stop()
            }
            await group.waitForAll()
        }
        let failed = store.snapshot().missedSlots.filter { $0.reason == .failed }
        #expect(!failed.isEmpty && failed.count == monitor.counters.failed)
        #expect(failed.allSatisfy { $0.target == "nowhere" && $0.vantage == "here" && $0.detail.contains("cannot run") }, "\(failed)")
        try store.close()
        // Read back after a reopen: the reason and its detail are on disk.
        let again = try PathStore(directory: dir, options: o)
        #expect(again.snapshot().missedSlots.filter { $0.reason == .failed } == failed)
        try again.close()
    }
}

import Foundation
import Testing
@testable import PathTSDB

/// The monitor as a user runs it: the built `stserver monitor`, tracing loopback with real
/// packets, reloading its targets file on SIGHUP.
@Suite(.serialized) struct MonitorTests {
    @Test(.needsRoot) func monitorTracesOnScheduleAndReloadsOnSIGHUP() throws {
        let dir = TemporaryDirectory("smoketrace-monitor")
        defer { dir.remove() }
        let config = dir.path + "/targets.yaml"
        try """
            defaults: { interval: 1s, probes: 1, max_ttl: 3, wait: 1s }
            targets:
              - { name: first, address: 127.0.0.1, method: udp-paris }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: stserverPath)
        p.arguments = ["monitor", "--config", config, "--data", dir.path + "/data", "--duration", "6s"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }

        // Wait until the monitor has started (it logs so), then add a target and reload.
        var log = Data()
        while !String(decoding: log, as: UTF8.self).contains("monitor started") {
            let chunk = err.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "the monitor ended before starting")
            log.append(chunk)
        }
        usleep(1_500_000)
        try """
            defaults: { interval: 1s, probes: 1, max_ttl: 3, wait: 1s }
            targets:
              - { name: first, address: 127.0.0.1, method: udp-paris }
              - { name: second, address: 127.0.0.1, method: icmp-paris }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        usleep(1_500_000)
        // A broken file is reported and the targets stay as they were.
        try "targets: [ {".write(toFile: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        log.append(err.fileHandleForReading.readDataToEndOfFile())
        let summary = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: log, as: UTF8.self))")
        #expect(summary.hasPrefix("monitor: "))
        let text = String(decoding: log, as: UTF8.self)
        #expect(text.contains("targets reloaded"))
        #expect(text.contains("targets file not reloaded; keeping the old targets"))

        var o = StoreOptions()
        o.walSync = .never
        let store = try PathStore(directory: dir.path + "/data", options: o)
        defer { try? store.close() }
        let snap = store.snapshot()
        let first = try #require(snap.catalog.targetID(named: "first"))
        let second = try #require(snap.catalog.targetID(named: "second"))
        let firstRuns = snap.runs(of: first, in: Int64.min..<Int64.max).table.runs
        let secondRuns = snap.runs(of: second, in: Int64.min..<Int64.max).table.runs
        #expect(firstRuns.count >= 4)
        #expect(secondRuns.count >= 2)
        #expect(firstRuns.allSatisfy { $0.reached && $0.method == .udpParis })
        // Runs of one target never overlap and keep their interval.
        for (a, b) in zip(firstRuns, firstRuns.dropFirst()) { #expect(b.startMicros - a.startMicros >= 900_000) }
    }
}

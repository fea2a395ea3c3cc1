import Testing
import PathTSDB
@testable import Probe

let targetsYAML = """
defaults:
  method: udp-paris
  interval: 60s
groups:
  - name: core
    interval: 30s
    tags: [dc1]
    targets:
      - { name: gw, address: 192.0.2.1 }
      - { name: web, address: www.example.net, method: icmp-paris, probes: 5 }
    groups:
      - name: edge
        tool: scamper
        max_ttl: 12
        targets:
          - name: peer
            address: 198.51.100.7
            tags: [peer]
targets:
  - { name: lonely, address: "2001:db8::1", method: icmp, interval: 5m }
"""

@Suite struct TargetConfigurationTests {
    @Test func groupSettingsFlowDownTheTree() throws {
        let targets = try TargetConfiguration.parse(targetsYAML)
        #expect(targets.map(\.name) == ["lonely", "core/gw", "core/web", "core/edge/peer"])
        let byName = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0) })
        #expect(byName["lonely"]?.intervalMicros == 300_000_000 && byName["lonely"]?.tool == .traceroute)
        #expect(byName["core/gw"]?.intervalMicros == 30_000_000 && byName["core/gw"]?.settings.method == .udpParis)
        #expect(byName["core/web"]?.settings.method == .icmpParis && byName["core/web"]?.settings.probesPerHop == 5)
        #expect(byName["core/edge/peer"]?.settings.maxTTL == 12 && byName["core/edge/peer"]?.tags == ["dc1", "peer"])
        #expect(byName["core/gw"]?.tool == .native)  // the default for Paris methods
        #expect(byName["core/gw"]?.settings.mdaConfidence == nil)
        #expect(byName["core/edge/peer"]?.tool == .scamper)  // named on its group
    }

    @Test(arguments: [
        ("groups: [{ name: g, targets: [{ name: a, address: 192.0.2.1, metod: icmp }] }]", "unknown key \"metod\""),
        ("targets: [{ name: a, address: 192.0.2.1, method: carrier-pigeon }]", "target a: unknown method \"carrier-pigeon\""),
        ("targets: [{ name: a, address: \"-n\" }]", "target a: \"-n\" is neither an IP address nor a host name"),
        ("targets: [{ name: a, address: 192.0.2.1, interval: soon }]", "target a: interval \"soon\" is not a duration"),
        ("targets: [{ name: a, address: 192.0.2.1 }, { name: a, address: 192.0.2.2 }]", "target a is defined twice"),
        ("targets: [{ name: a }]", "address: missing"),
        ("targets: [{ name: a, address: 192.0.2.1, max_ttl: 300 }]", "first_ttl and max_ttl must satisfy"),
        ("targets: [{ name: a, address: 192.0.2.1, tool: scamper, mda: 0.95 }]", "target a: mda needs the native prober"),
        ("targets: [{ name: a, address: 192.0.2.1, mda: 95 }]", "target a: mda is a confidence between 0 and 1"),
        ("targets: [ {", ""),
        // Known at load time to fail at every run: refused now, not found failing later.
        ("targets: [{ name: a, address: 192.0.2.1, tool: scamper, method: tcp }]", "target a: scamper cannot trace with method tcp"),
        ("targets: [{ name: a, address: 192.0.2.1, tool: tcptraceroute, method: udp }]", "target a: tcptraceroute cannot trace with method udp"),
        ("targets: [{ name: a, address: 192.0.2.1, tool: native, method: udp }]", "target a: the native prober sends udp-paris, icmp-paris and tcp-paris, not udp"),
        ("targets: [{ name: a, address: gw.example.net, tool: mtr, method: icmp }]", "target a: mtr needs an address, not the name \"gw.example.net\""),
        ("targets: [{ name: a, address: 192.0.2.1, wait: 2m }]", "target a: wait \"2m\" is not a duration from 1ms to 60s"),
        ("defaults: { intervall: 10s }\ntargets: [{ name: a, address: 192.0.2.1 }]", "unknown key \"intervall\""),
        ("", "the targets file is empty"),
        ("# only a comment\n", "the targets file is empty"),
    ])
    func badFilesSayWhatIsWrong(_ yaml: String, _ expected: String) {
        do {
            _ = try TargetConfiguration.parse(yaml, source: "targets.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.source == "targets.yaml")
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    /// A well-formed file with a wrong key or value names where it is, line and column, and the
    /// path to it.
    @Test func aWrongKeyOrValueNamesItsPlace() {
        func yaml(_ probes: String) -> String {
            "groups:\n  - name: core\n    targets:\n      - { name: gw, address: 192.0.2.1, probes: \(probes) }\n      - { name: b, adress: 192.0.2.2 }\n"
        }
        do {
            _ = try TargetConfiguration.parse(yaml("many"), source: "t.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.message == "groups[0].targets[0].probes: expected an integer, found \"many\"", "\(error)")
            #expect(error.line == 4 && error.column == 49, "\(error)")
        }
        do {
            _ = try TargetConfiguration.parse(yaml("2"), source: "t.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.message.hasPrefix("groups[0].targets[1]: unknown key \"adress\""), "\(error)")
            #expect(error.line == 5 && error.column == 20, "\(error)")
        }
    }

    /// A YAML syntax error names the line and column libyaml stopped at.
    @Test func syntaxErrorsNameLineAndColumn() {
        do {
            _ = try TargetConfiguration.parse("targets:\n  - { name: a, address: 192.0.2.1\n", source: "targets.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.line == 3 && error.column != nil, "\(error)")
            #expect(error.message.hasPrefix("YAML: "), "\(error)")
        }
    }
}

@Suite struct ScheduleTests {
    func target(_ name: String, every seconds: Int64, probes: Int = 3, maxTTL: Int = 10) throws -> ScheduledTarget {
        var s = TraceSettings(method: .udpParis)
        s.probesPerHop = probes
        s.maxTTL = maxTTL
        return ScheduledTarget(name: name, address: try TargetName("192.0.2.1"), tool: .scamper, settings: s,
                               intervalMicros: seconds * 1_000_000, tags: [])
    }

    func starts(_ d: [Schedule.Decision]) -> [String] {
        d.compactMap { if case .start(let t, _) = $0 { t.name } else { nil } }
    }

    @Test func startsAreJitteredAndPeriodic() throws {
        let names = (0..<20).map { "t\($0)" }
        var s = Schedule(targets: try names.map { try target($0, every: 60) }, nowMicros: 0)
        var firstStart = [String: Int64]()
        var count = [String: Int]()
        for second in stride(from: Int64(0), to: 300, by: 1) {
            for d in s.advance(to: second * 1_000_000) {
                guard case .start(let t, let slot) = d else { Issue.record("unexpected \(d)"); continue }
                #expect(slot <= second * 1_000_000 && second * 1_000_000 - slot < 1_000_000)
                if firstStart[t.name] == nil { firstStart[t.name] = slot }
                count[t.name, default: 0] += 1
                s.finished(t.name)
            }
        }
        #expect(count.values.allSatisfy { $0 == 5 })
        #expect(Set(firstStart.values).count > 15, "starts spread over the minute")
        // The offsets are the same on every start of the monitor.
        let again = Schedule(targets: try names.map { try target($0, every: 60) }, nowMicros: 0)
        #expect(again.nextWakeupMicros == s.nextWakeupMicros.map { $0 - 300_000_000 })
    }

    @Test func aRunThatIsStillGoingMakesTheNextSlotMissed() throws {
        var s = Schedule(targets: [try target("slow", every: 10)], nowMicros: 0)
        let first = try #require(s.nextWakeupMicros)
        #expect(starts(s.advance(to: first)) == ["slow"])
        #expect(s.advance(to: first + 10_000_000) == [.missed(name: "slow", slotMicros: first + 10_000_000, reason: .stillRunning)])
        s.finished("slow")
        #expect(starts(s.advance(to: first + 20_000_000)) == ["slow"])
    }

    @Test func theConcurrencyLimitHoldsThenMisses() throws {
        let ts = try (0..<4).map { try target("c\($0)", every: 60) }
        var s = Schedule(targets: ts, nowMicros: 0, maxConcurrent: 2)
        var started = [String]()
        var slots = 0
        var noCapacity = 0
        // Nothing finishes: two traces start, every other slot of three minutes is missed.
        for second in stride(from: Int64(0), to: 180, by: 1) {
            for d in s.advance(to: second * 1_000_000) {
                slots += 1
                switch d {
                case .start(let t, _): started.append(t.name)
                case .missed(_, _, .noCapacity): noCapacity += 1
                case .missed(_, _, .stillRunning): break
                case .missed(_, _, let reason): Issue.record("unexpected \(reason)")
                }
                #expect(s.runningCount <= 2)
            }
        }
        #expect(started.count == 2)
        #expect(noCapacity >= 2)
        #expect(slots >= 4 * 2)
        // One finishing frees a place: the next slot of a held-back target starts.
        s.finished(started[0])
        var restarted = false
        for second in stride(from: Int64(180), to: 260, by: 1) {
            if s.advance(to: second * 1_000_000).contains(where: { if case .start = $0 { true } else { false } }) { restarted = true }
        }
        #expect(restarted)
    }

    @Test func thePacketCapHoldsBackStarts() throws {
        // 30 probes a trace (3 × 10 TTLs), 60 probes a second: two traces, then the bucket is empty.
        let ts = try (0..<4).map { try target("p\($0)", every: 3600) }
        var s = Schedule(targets: ts, nowMicros: 0, maxConcurrent: 100, packetsPerSecond: 60)
        var all = [String]()
        var t: Int64 = 3_600_000_000
        let firstBatch = starts(s.advance(to: t))
        for n in firstBatch { s.finished(n) }
        all += firstBatch
        #expect(firstBatch.count <= 2)
        while all.count < 4 && t < 3_700_000_000 {
            t += 100_000
            let more = starts(s.advance(to: t))
            for n in more { s.finished(n) }
            all += more
        }
        #expect(all.count == 4)
        #expect(t - 3_600_000_000 >= 500_000, "the refill took time")
    }

    @Test func aSlotSeenAnIntervalLateIsMissedNotRunTwice() throws {
        var s = Schedule(targets: [try target("x", every: 10)], nowMicros: 0)
        let first = try #require(s.nextWakeupMicros)
        let d = s.advance(to: first + 35_000_000)  // the monitor was stalled for 35 s
        #expect(d.filter { if case .missed(_, _, .late) = $0 { true } else { false } }.count == 3)
        #expect(starts(d) == ["x"])
    }

    /// A reload keeps a kept target's slot grid and its run in flight, drops a removed one, and
    /// gives a new one its first slot from the reload on.
    @Test func reloadKeepsRunsAndSlotsOfKeptTargets() throws {
        let interval: Int64 = 10_000_000
        var s = Schedule(targets: [try target("a", every: 10), try target("b", every: 10)], nowMicros: 0)
        let firstA = try #require(s.nextSlot(of: "a"))
        let started = s.advance(to: firstA)
        #expect(started.contains { if case .start(let t, let slot) = $0 { t.name == "a" && slot == firstA } else { false } })
        let nextA = try #require(s.nextSlot(of: "a"))
        #expect(nextA == firstA + interval)
        s.reload([try target("a", every: 10), try target("c", every: 10)], nowMicros: firstA)
        #expect(s.targetNames == ["a", "c"])
        #expect(s.nextSlot(of: "a") == nextA)  // the grid is kept
        #expect(s.nextSlot(of: "b") == nil)
        let slotC = try #require(s.nextSlot(of: "c"))
        #expect(slotC >= firstA && slotC < firstA + interval)
        #expect(s.runningCount == 1)  // a's; b's run, if it started, is no longer counted
        // a's run goes on: its next slot finds it still running.
        let atNext = s.advance(to: nextA)
        #expect(atNext.contains { if case .missed(let name, let slot, let reason) = $0 { name == "a" && slot == nextA && reason == .stillRunning } else { false } })
        #expect(!atNext.contains { if case .start(let t, _) = $0 { t.name == "b" } else if case .missed(let name, _, _) = $0 { name == "b" } else { false } })
        s.finished("a")
        let after = s.advance(to: nextA + interval)
        #expect(after.contains { if case .start(let t, let slot) = $0 { t.name == "a" && slot == nextA + interval } else { false } })
    }

    /// A thousand targets of one interval start evenly over it: a tenth of the interval holds a
    /// tenth of them, so the packet rate is flat.
    @Test func startsAreSpreadEvenly() throws {
        let ts = try (0..<1000).map { try target("even-\($0)", every: 60) }
        var s = Schedule(targets: ts, nowMicros: 0, maxConcurrent: 10_000, packetsPerSecond: 10_000_000)
        var perTenth = [Int](repeating: 0, count: 10)
        for tenth in 0..<10 {
            let decisions = s.advance(to: Int64(tenth + 1) * 6_000_000 - 1)
            perTenth[tenth] = starts(decisions).count
            for n in starts(decisions) { s.finished(n) }
        }
        #expect(perTenth.allSatisfy { $0 == 100 }, "\(perTenth)")
    }

    /// A reload keeps the offsets of kept targets and puts a new one in the middle of the widest gap.
    @Test func aNewTargetTakesTheWidestGap() throws {
        #expect(Schedule.spread(count: 4, over: 60, around: []) == [0, 15, 30, 45])
        #expect(Schedule.spread(count: 1, over: 60, around: [0, 15, 30]) == [45])
        #expect(Schedule.spread(count: 2, over: 60, around: [0, 40]) == [20, 10], "then the earliest of three 20 s gaps")
        var s = Schedule(targets: try ["a", "b", "c"].map { try target($0, every: 60) }, nowMicros: 0)
        let before = try ["a", "b", "c"].map { try #require(s.nextSlot(of: $0)) }
        #expect(Set(before) == [0, 20_000_000, 40_000_000])
        s.reload(try ["a", "b", "c", "d"].map { try target($0, every: 60) }, nowMicros: 1)
        #expect(try ["a", "b", "c"].map { try #require(s.nextSlot(of: $0)) } == before)
        #expect(s.nextSlot(of: "d") == 10_000_000, "the middle of the first of three equal gaps")
    }

    /// With the concurrency used up, held slots do not make the monitor spin: its next wake-up is
    /// the earliest held slot's deadline (or a trace ending); at the deadline they are missed.
    @Test func heldSlotsWaitForCapacityWithoutPolling() throws {
        let ts = try (0..<3).map { try target("h\($0)", every: 60) }
        var s = Schedule(targets: ts, nowMicros: 0, maxConcurrent: 1)
        let first = starts(s.advance(to: 0))
        #expect(first.count == 1)
        _ = s.advance(to: 40_000_000)
        #expect(s.heldCount == 2)
        // Held since 20 s and 40 s: the first deadline is at 50 s, half an interval on.
        #expect(s.nextWakeupMicros == 50_000_000)
        let atDeadline = s.advance(to: 50_000_000)
        #expect(atDeadline.count == 1 && s.heldCount == 1)
        // A trace ending frees the place: the oldest held slot starts at once.
        s.finished(first[0])
        let next = s.advance(to: 50_000_001)
        #expect(starts(next).count == 1 && s.heldCount == 0)
    }

    /// Slots still held when the monitor stops are reported as stopped, not lost.
    @Test func heldSlotsAreReportedWhenStopping() throws {
        let ts = try (0..<3).map { try target("s\($0)", every: 60) }
        var s = Schedule(targets: ts, nowMicros: 0, maxConcurrent: 1)
        #expect(starts(s.advance(to: 40_000_000)).count == 1)
        let stopped = s.stop()
        #expect(stopped.count == 2)
        #expect(stopped.allSatisfy { if case .missed(_, _, .stopped) = $0 { true } else { false } })
        #expect(s.heldCount == 0 && s.stop().isEmpty)
    }
}

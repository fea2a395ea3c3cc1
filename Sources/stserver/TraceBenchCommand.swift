import ArgumentParser
import PathTSDB
import Probe

#if canImport(Glibc)
import Glibc
#endif

/// `stserver bench-tracers` (hidden): traces every target of a list once, many at a time, with
/// the native prober or a system tool, and prints traces per second and CPU per trace as one
/// JSON line. `Benchmarks/tracers.sh` runs it inside a namespace lab beside scamper.
struct TraceBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-tracers", shouldDisplay: false)

    @Option(help: "File of target addresses, one per line.")
    var targets: String

    @Option(help: "native, traceroute, scamper, mtr or tcptraceroute.")
    var tool: String = "native"

    @Option(help: "Method.")
    var method: String = "udp-paris"

    @Option(help: "Traces at once.")
    var concurrency: Int = 256

    @Option(help: "Packets per second, all traces together (native).")
    var pps: Int = 10_000

    @Option(help: "Probes per hop.")
    var probes: Int = 3

    @Option(help: "Wait per probe, milliseconds.")
    var wait: Int = 1000

    func run() async throws {
        try await reportingErrors {
            let list = try readFile(targets).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
            guard let tracerTool = TracerTool(rawValue: tool), let m = TraceMethod(name: method) else {
                throw ValidationError("unknown --tool or --method")
            }
            var settings = TraceSettings(method: m)
            settings.probesPerHop = probes
            settings.waitMilliseconds = wait
            let names = try list.map { try TargetName($0) }
            let prober = NativeProber(packetsPerSecond: pps)
            defer { prober.shutdown() }
            let clock = ContinuousClock()
            let t0 = clock.now
            let before = Self.resourceUsage()
            var reached = 0, probesSent = 0, failed = 0
            let fixed = settings
            await withTaskGroup(of: (Bool, Int)?.self) { group in
                var next = 0
                while next < min(concurrency, names.count) {
                    let name = names[next]
                    next += 1
                    group.addTask { await Self.traceOnce(name, tool: tracerTool, settings: fixed, prober: prober) }
                }
                while let result = await group.next() {
                    if let (ok, n) = result {
                        reached += ok ? 1 : 0
                        probesSent += n
                    } else {
                        failed += 1
                    }
                    if next < names.count {
                        let name = names[next]
                        next += 1
                        group.addTask { await Self.traceOnce(name, tool: tracerTool, settings: fixed, prober: prober) }
                    }
                }
            }
            let wall = BenchCommand.seconds(clock.now - t0)
            let after = Self.resourceUsage()
            let cpu = after.cpuSeconds - before.cpuSeconds
            let switches = after.contextSwitches - before.contextSwitches
            print(#"{"measure":"tracers","tool":"\#(tool)","targets":\#(names.count),"reached":\#(reached),"failed":\#(failed),"probes":\#(probesSent),"wall_s":\#(wall),"traces_per_s":\#(Double(names.count) / wall),"cpu_ms_per_trace":\#(cpu * 1000 / Double(names.count)),"switches_per_trace":\#(Double(switches) / Double(names.count))}"#)
        }
    }

    /// One trace: whether it reached the destination and how many probes it sent; nil if it failed.
    static func traceOnce(_ name: TargetName, tool: TracerTool, settings: TraceSettings, prober: NativeProber) async -> (Bool, Int)? {
        do {
            let r = tool == .native
                ? try await prober.trace(name, settings: settings)
                : try await SystemTracer(tool: tool).trace(name, settings: settings)
            return (r.output.reached, r.output.probes.count)
        } catch {
            return nil
        }
    }

    /// User and system CPU (seconds) and context switches, voluntary or not (each a wake-up or
    /// a preemption the tracer paid for), of this process and its waited-for children.
    static func resourceUsage() -> (cpuSeconds: Double, contextSwitches: Int) {
        var cpu = 0.0, switches = 0
        for who in [RUSAGE_SELF, RUSAGE_CHILDREN] {
            var u = rusage()
            getrusage(__rusage_who_t(who.rawValue), &u)
            cpu += Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
            switches += u.ru_nvcsw + u.ru_nivcsw
        }
        return (cpu, switches)
    }
}

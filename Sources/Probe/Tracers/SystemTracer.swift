package import PathTSDB
import Subprocess

#if canImport(Glibc)
import Glibc
#endif

/// What SmokeTrace can trace with: the system tools, and its own prober (`native`).
package enum TracerTool: String, Sendable, CaseIterable {
    case traceroute, tcptraceroute, mtr, scamper, native

    /// The tool a method uses unless one is named: the native prober for the Paris methods,
    /// traceroute for the classic ones.
    package static func defaultTool(for method: TraceMethod) -> TracerTool {
        switch method {
        case .udpParis, .icmpParis, .tcpParis: .native
        default: .traceroute
        }
    }
}

/// How to trace one target.
package struct TraceSettings: Sendable, Equatable {
    package var method: TraceMethod
    package var probesPerHop: Int = 3
    package var firstTTL: Int = 1
    package var maxTTL: Int = 30
    /// How long to wait for each probe's answer.
    package var waitMilliseconds: Int = 1000
    /// The flow identifier to hold for Paris methods (scamper: the UDP/TCP source port, or the
    /// ICMP checksum); nil lets the tool choose.
    package var flowID: UInt16?
    /// Destination port for TCP methods.
    package var tcpPort: UInt16 = 80
    /// With the native prober: enumerate the branches of load-balanced hops (MDA) until this
    /// confidence (0.95: a branch missed with at most 5 % probability); nil for one flow.
    package var mdaConfidence: Double?

    package init(method: TraceMethod) {
        self.method = method
    }
}

/// What a tracer run produced: the trace, and the tool's own account of it. A tool that exits
/// non-zero after printing hops still gives a result (its exit status is here); only output
/// that cannot be read, or a tool that cannot be started, is an error.
package struct TracerResult: Sendable {
    package var output: TracerOutput
    package var flowID: UInt16
    package var startMicros: Int64
    package var endMicros: Int64
    package var exitStatus: Int32
    package var standardError: String

    /// The trace as a run of the store.
    package func run(target: String, vantage: String, method: TraceMethod) -> TraceRun? {
        output.run(target: target, vantage: vantage, method: method, flowID: flowID, startMicros: startMicros, endMicros: endMicros)
    }
}

/// Runs a system tracer once and reads its output. The tool is started with an argument vector
/// (never a shell) and always with numeric output (`-n`), which the readers rely on.
package struct SystemTracer: Sendable {
    package let tool: TracerTool
    /// Words put before the tool's command line; tests use `["ip", "netns", "exec", NS]` to trace
    /// from inside a network namespace.
    package let commandPrefix: [String]

    package init(tool: TracerTool, commandPrefix: [String] = []) {
        self.tool = tool
        self.commandPrefix = commandPrefix
    }

    /// The tool's argument vector for tracing `target` (the tool's name first).
    package func arguments(target: TargetName, settings s: TraceSettings) throws(ProbeError) -> [String] {
        let q = String(max(1, min(s.probesPerHop, 10)))
        let first = String(max(1, min(s.firstTTL, 255)))
        let last = String(Swift.max(s.firstTTL, Swift.min(s.maxTTL, 255)))
        let waitSeconds = formatSeconds(s.waitMilliseconds)
        switch tool {
        case .traceroute:
            var args = ["traceroute", "-n", "-q", q, "-f", first, "-m", last, "-w", waitSeconds]
            switch s.method {
            case .udp: break
            case .icmp: args.append("-I")
            case .tcp: args += ["-T", "-p", String(s.tcpPort)]
            default: throw unsupported(s.method)
            }
            return args + [target.text]
        case .tcptraceroute:
            guard s.method == .tcp else { throw unsupported(s.method) }
            return ["tcptraceroute", "-n", "-q", q, "-f", first, "-m", last, "-w", String(Swift.max(1, s.waitMilliseconds / 1000)),
                    target.text, String(s.tcpPort)]
        case .mtr:
            var args = ["mtr", "--raw", "-n", "-c", q, "-i", "0.1", "-f", first, "-m", last, "-Z", waitSeconds]
            switch s.method {
            case .icmp: break
            case .udp: args.append("-u")
            case .tcp: args += ["-T", "-P", String(s.tcpPort)]
            default: throw unsupported(s.method)
            }
            return args + [target.text]
        case .scamper:
            let name: String
            switch s.method {
            case .udpParis: name = "udp-paris"
            case .icmpParis: name = "icmp-paris"
            case .tcpParis: name = "tcp-ack-sport"
            case .udp: name = "udp"
            case .icmp: name = "icmp"
            default: throw unsupported(s.method)
            }
            var trace = "trace -P \(name) -q \(q) -Q -f \(first) -m \(last) -w \(Swift.max(1, s.waitMilliseconds / 1000))"
            // A Paris flow pinned per target, as the native prober does: each trace of the target
            // then takes the same path through per-flow load balancers, and is compared with the
            // last trace of that flow. Left to itself scamper picks a new one for every trace.
            if s.method.pinsFlow {
                let flow = s.flowID ?? SystemTracer.pinnedFlow(for: target)
                trace += s.method == .icmpParis ? " -d \(flow)" : " -s \(flow)"
            }
            return ["scamper", "-O", "json", "-c", trace, "-i", target.text]
        case .native:
            throw ProbeError(.unsupportedInput, "the native prober is not a system tool: trace with NativeProber")
        }
    }

    /// Traces `target` once.
    /// - Throws: `ProbeError` when the tool cannot be started or its output cannot be read.
    package func trace(_ target: TargetName, settings: TraceSettings) async throws(ProbeError) -> TracerResult {
        let args = try arguments(target: target, settings: settings)
        let command = commandPrefix + args
        let start = WallClock.nowMicros()
        let status: Int32
        var killed = false
        let stdout: String
        let stderr: String
        do {
            let result = try await Subprocess.run(
                .name(command[0]), arguments: Arguments(Array(command.dropFirst())),
                output: .string(limit: 4 << 20), error: .string(limit: 1 << 20))
            switch result.terminationStatus {
            case .exited(let code): status = code
            case .signaled(let signal):
                status = 128 + signal
                killed = true
            }
            stdout = result.standardOutput
            stderr = result.standardError
        } catch {
            throw ProbeError(.tracerFailed, "cannot run \(args[0]): \(error)")
        }
        let end = WallClock.nowMicros()
        var output: TracerOutput
        var flow = settings.flowID ?? 0
        var startMicros = start
        let source = "\(args[0]) output"
        switch tool {
        case .traceroute, .tcptraceroute:
            output = try TracerouteTextParser(method: settings.method, destination: IPAddress(target.text), source: source).parse(stdout)
        case .mtr:
            guard let destination = IPAddress(target.text) else {
                throw ProbeError(.unsupportedInput, "mtr's raw output does not name the destination: trace an address, not \"\(target)\"")
            }
            output = try MtrRawParser(destination: destination, method: settings.method, source: source).parse(stdout)
        case .scamper:
            let traces = try ScamperJSONParser(source: source).parse(stdout)
            guard let t = traces.first else {
                throw ProbeError(.malformedInput, "scamper printed no trace (exit status \(status)): \(stderr.prefix(200))", source: source)
            }
            output = t.output
            flow = t.flowID
            if t.startMicros > 0 { startMicros = t.startMicros }
        case .native:
            throw ProbeError(.unsupportedInput, "the native prober is not a system tool")
        }
        // A tool killed by a signal stopped wherever it was: what it printed is partial.
        if killed { output.interrupted = true }
        return TracerResult(output: output, flowID: flow, startMicros: startMicros, endMicros: end, exitStatus: status, standardError: stderr)
    }

    /// A flow id (a source port, or an ICMP checksum) from 20000 to 59999, the same for every
    /// trace of `target`: FNV-1a of its name.
    static func pinnedFlow(for target: TargetName) -> UInt16 {
        UInt16(20_000 + FNV1a.hash(target.text.utf8) % 40_000)
    }

    private func unsupported(_ method: TraceMethod) -> ProbeError {
        ProbeError(.unsupportedInput, "\(tool.rawValue) cannot trace with method \(method)")
    }

    private func formatSeconds(_ ms: Int) -> String {
        let m = Swift.max(ms, 1)
        return m % 1000 == 0 ? String(m / 1000) : "\(m / 1000).\(String(repeating: "0", count: 3 - String(m % 1000).count))\(m % 1000)"
    }
}

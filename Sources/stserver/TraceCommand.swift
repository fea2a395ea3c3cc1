import ArgumentParser
import PathTSDB
import Probe
import Query

/// `stserver trace`: traces one target once and prints the hops.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Trace one target once and print every probe; store the run with --data.")

    @Argument(help: "The target: an IP address or a host name.")
    var target: String

    @Option(name: .long, help: "Method: udp, icmp, tcp, udp-paris, icmp-paris, tcp-paris.")
    var method: String = "udp-paris"

    @Option(name: .long, help: "Tool: native, traceroute, tcptraceroute, mtr, scamper (default: native for udp-paris and icmp-paris, scamper for tcp-paris, traceroute otherwise).")
    var tool: String?

    @Option(name: .long, help: "Trace from this network namespace (a name under /var/run/netns).")
    var netns: String?

    @Option(name: .long, help: "How long to wait for each probe's answer, in milliseconds.")
    var wait: Int = 1000

    @Option(name: .long, help: "Native prober: find every branch of load-balanced hops (MDA) to this confidence, e.g. 0.95.")
    var mda: Double?

    @Option(name: .long, help: "Probes per hop.")
    var probes: Int = 3

    @Option(name: .customLong("max-ttl"), help: "Highest TTL to probe.")
    var maxTTL: Int = 30

    @Option(name: .long, help: "Flow id to hold (Paris methods): source port, or ICMP checksum.")
    var flow: UInt16?

    @Option(name: .long, help: "Output: table, csv or json.")
    var format: String = "table"

    @Option(name: .long, help: "Store the run in this data directory.")
    var data: String?

    @Option(name: .long, help: "Vantage point name to store the run under.")
    var vantage: String = "local"

    func run() async throws {
        guard let traceMethod = TraceMethod(name: method), traceMethod != .unknown else {
            throw ValidationError("--method takes udp, icmp, tcp, udp-paris, icmp-paris or tcp-paris")
        }
        guard let out = OutputFormat(rawValue: format) else { throw ValidationError("--format takes table, csv or json") }
        let chosen: TracerTool
        if let tool {
            guard let t = TracerTool(rawValue: tool) else { throw ValidationError("--tool takes native, traceroute, tcptraceroute, mtr or scamper") }
            chosen = t
        } else {
            chosen = TracerTool.defaultTool(for: traceMethod)
        }
        try await reportingErrors {
            let name = try TargetName(target)
            var settings = TraceSettings(method: traceMethod)
            settings.probesPerHop = probes
            settings.maxTTL = maxTTL
            settings.flowID = flow
            settings.waitMilliseconds = wait
            if let mda {
                guard mda > 0 && mda < 1 else { throw ValidationError("--mda takes a confidence between 0 and 1, such as 0.95") }
                guard chosen == .native else { throw ValidationError("--mda needs the native prober (--tool native)") }
                settings.mdaConfidence = mda
            }
            let result = chosen == .native
                ? try await NativeProber(namespace: netns).trace(name, settings: settings)
                : try await SystemTracer(tool: chosen, commandPrefix: netns.map { ["ip", "netns", "exec", $0] } ?? []).trace(name, settings: settings)
            var table = ResultTable(columns: ["ttl", "probe", "address", "rtt_ms", "icmp_type", "icmp_code", "mpls"])
            var index = 0
            var lastTTL: UInt8 = 0
            for p in result.output.probes {
                index = p.ttl == lastTTL ? index + 1 : 1
                lastTTL = p.ttl
                table.rows.append([
                    .integer(Int64(p.ttl)), .integer(Int64(index)),
                    p.address.map { .text($0.description) } ?? .null,
                    p.isLoss ? .null : .number(Double(p.rttMicros) / 1000),
                    p.isLoss ? .null : .integer(Int64(p.icmpType)), p.isLoss ? .null : .integer(Int64(p.icmpCode)),
                    p.mplsLabels.isEmpty ? .null : .text(p.mplsLabels.map { "\($0.label)" }.joined(separator: "/")),
                ])
            }
            print(out.render(table), terminator: "")
            if result.exitStatus != 0 {
                StandardError.write("stserver: \(chosen.rawValue) exited with status \(result.exitStatus): \(result.standardError.prefix(300))\n")
            }
            if let data {
                guard let run = result.run(target: target, vantage: vantage, method: traceMethod) else {
                    throw ProbeError(.malformedInput, "\(chosen.rawValue) did not name the destination; nothing to store")
                }
                var options = StoreOptions()
                options.backgroundCuts = false
                let store = try PathStore(directory: data, options: options)
                try store.append([run])
                try store.close()
            }
        }
    }
}

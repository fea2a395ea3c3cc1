import ArgumentParser
import PathTSDB
import Probe
import Query

/// `stserver targets`: list, check and edit a targets file.
struct TargetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "targets",
        abstract: "List, check and edit a targets file (a running server reloads it on SIGHUP or POST /api/v1/reload).",
        subcommands: [List.self, Add.self, Remove.self])

    struct FileOption: ParsableArguments {
        @Option(name: .long, help: "The targets file (YAML).")
        var config: String
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the file and list its targets, settings resolved.")
        @OptionGroup var file: FileOption
        @OptionGroup var output: OutputOptions

        func run() throws {
            try reportingErrors {
                let targets = try TargetConfiguration.parse(try readFile(file.config), source: file.config)
                var table = ResultTable(columns: ["target", "address", "tool", "method", "interval_s", "probes", "max_ttl", "tags"])
                for t in targets {
                    table.rows.append([.text(t.name), .text(t.address.text), .text(t.tool.rawValue), .text(t.settings.method.description),
                                       .number(Double(t.intervalMicros) / 1e6), .integer(Int64(t.settings.probesPerHop)),
                                       .integer(Int64(t.settings.maxTTL)), .text(t.tags.joined(separator: ","))])
                }
                print(output.format.render(table), terminator: "")
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a target (or, with --replace, change one); its groups are created as needed.")
        @OptionGroup var file: FileOption
        @Argument(help: "Full name: group path and name, such as core/gw.") var name: String
        @Argument(help: "Address or host name to trace.") var address: String
        @Option(name: .long, help: "udp, icmp, tcp, udp-paris, icmp-paris or tcp-paris.") var method: String?
        @Option(name: .long, help: "traceroute, tcptraceroute, mtr, scamper or native.") var tool: String?
        @Option(name: .long, help: "How often, such as 60s.") var interval: String?
        @Option(name: .long, help: "Probes per hop.") var probes: Int?
        @Option(name: .customLong("max-ttl"), help: "Highest TTL.") var maxTTL: Int?
        @Option(name: .long, help: "Tags, comma-separated.") var tags: String?
        @Flag(name: .customLong("hop-metrics"), help: "Give the target per-hop series in /metrics.") var hopMetrics = false
        @Flag(name: .long, help: "Replace the target of that name.") var replace = false

        func run() throws {
            try reportingErrors {
                var editor = try TargetFileEditor(yaml: try readFile(file.config), source: file.config)
                var spec = TargetSpec(name: name, address: address)
                spec.method = method
                spec.tool = tool
                spec.interval = interval
                spec.probes = probes
                spec.maxTTL = maxTTL
                spec.tags = tags.map { $0.split(separator: ",").map(String.init) }
                if hopMetrics { spec.hopMetrics = true }
                if replace { try editor.update(spec) } else { try editor.add(spec) }
                try editor.write(to: file.config)
                print("\(replace ? "changed" : "added") \(name); \(try editor.check().count) targets in \(file.config)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a target (its data stays in the store).")
        @OptionGroup var file: FileOption
        @Argument(help: "Full name of the target.") var name: String

        func run() throws {
            try reportingErrors {
                var editor = try TargetFileEditor(yaml: try readFile(file.config), source: file.config)
                try editor.remove(name)
                try editor.write(to: file.config)
                print("removed \(name); \(try editor.check().count) targets in \(file.config)")
            }
        }
    }
}

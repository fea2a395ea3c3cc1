import ArgumentParser
import Foundation
import PathTSDB

/// `stserver`: the SmokeTrace server and its command line.
@main
struct STServer: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "stserver",
        abstract: "SmokeTrace: traceroute many destinations, keep every hop, alert when paths change.",
        version: version,
        subcommands: [ServeCommand.self, MonitorCommand.self, RulesCommand.self, AlertsCommand.self, AlertBenchCommand.self, QueryCommand.self, ExportCommand.self, TargetsCommand.self, DiffCommand.self, ImportCommand.self, TraceCommand.self, HopsCommand.self, PathsCommand.self, ChangesCommand.self, InfoCommand.self, CrashWriterCommand.self, BenchCommand.self, PageBenchCommand.self, CompactCommand.self, VerifyCommand.self, VersionCommand.self, TraceBenchCommand.self]
    )
}

/// Options every subcommand that touches the store shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory of the store.")
    var data: String = "./stdata"

    /// Refuses a directory that holds no store: only `import`, `serve`, `monitor` and
    /// `trace --data` create one, so a mistyped `--data` is an error (exit 66), never an empty
    /// store made on the spot and answered from.
    func requireStore() throws(StorageError) {
        guard StoreLayout(directory: data).exists else {
            throw StorageError(.notFound, "no SmokeTrace store here (no catalog.ptc); import, serve, monitor and trace --data create one", file: data)
        }
    }

    /// Opens the store for reading only: beside a running `serve` or `monitor`, which it never
    /// disturbs.
    func openForReading() throws -> PathStore {
        try requireStore()
        return try PathStore(readingOnly: data)
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    func run() {
        print("stserver \(STServer.version)")
    }
}

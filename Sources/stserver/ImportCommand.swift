import ArgumentParser
import PathTSDB
import Probe
import Query

/// `stserver import`: loads traceroute results traced elsewhere into the store.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load traceroute results into the store.",
        discussion: "Reads RIPE Atlas traceroute results (one JSON object per line, or the Atlas API's JSON array). Use - for standard input.")

    enum InputFormat: String, ExpressibleByArgument, CaseIterable {
        case atlas
    }

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Input format: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: InputFormat = .atlas

    @Option(name: .long, help: "WAL fsync policy: always, never, or an interval such as 1s.")
    var sync: String = "never"

    @Flag(name: .long, help: "Compact the store when the import is done, the newest window included.")
    var compact = false

    @Argument(help: "Files to read (- for standard input).")
    var files: [String]

    func run() throws {
        var options = StoreOptions()
        options.walSync = try SyncPolicyText.parse(sync)
        do {
            let store = try PathStore(directory: store.data, options: options)
            var progress = ProgressLine()
            var results = 0, probes = 0, samples = 0
            var bytes: Int64 = 0
            let reader = AtlasStreamReader()
            for file in files {
                let summary = try reader.readConcurrently(path: file) { batch in
                    try store.append(batch)
                    results += batch.count
                    for r in batch {
                        probes += r.probes.count
                        for p in r.probes where !p.isLoss { samples += 1 }
                    }
                    let rate = Int(Double(samples) / max(progress.elapsedSeconds, 0.001))
                    progress.update("\(file): \(Format.grouped(results)) results, \(Format.grouped(samples)) RTT samples, \(Format.grouped(rate)) samples/s")
                }
                bytes += summary.bytes
                if summary.lateReplies + summary.duplicateReplies + summary.hopErrors > 0 {
                    StandardError.write("\(file): not stored as probes: \(summary.lateReplies) late replies, \(summary.duplicateReplies) duplicate replies, \(summary.hopErrors) hops reporting an error\n")
                }
            }
            try store.flush()
            if compact { _ = try store.compact(includeOpenWindows: true) }
            try store.close()
            progress.finish()
            let secs = progress.elapsedSeconds
            print("imported \(Format.grouped(results)) results: \(Format.grouped(probes)) probes, \(Format.grouped(samples)) RTT samples, \(Format.grouped(Int(bytes))) bytes in \(Format.fixed(secs, 2)) s (\(Format.grouped(Int(Double(samples) / max(secs, 0.001)))) samples/s)")
        } catch {
            throw ExitStatus.report(error)
        }
    }
}

enum SyncPolicyText {
    static func parse(_ text: String) throws -> WALSyncPolicy {
        switch text {
        case "always": return .always
        case "never": return .never
        default:
            guard let us = Query.DurationText.parseMicros(text) else {
                throw ValidationError("--sync takes always, never or a duration such as 1s, not \"\(text)\"")
            }
            return .interval(.microseconds(us))
        }
    }
}

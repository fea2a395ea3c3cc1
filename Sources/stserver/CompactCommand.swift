import ArgumentParser
import PathTSDB
import Query

/// `stserver compact`: merges segments and applies retention now.
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Merge small segments and apply retention.")

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Drop raw data older than this (rollups are kept), e.g. 30d.")
    var retention: String?

    @Flag(name: .long, help: "Merge the newest, still open time windows too (for an imported store that will not grow).")
    var all = false

    func run() throws {
        var options = StoreOptions()
        if let retention {
            guard let us = DurationText.parseMicros(retention) else { throw ValidationError("--retention takes a duration such as 30d") }
            options.rawRetention = .microseconds(us)
        }
        try reportingErrors {
            try store.requireStore()
            let store = try PathStore(directory: store.data, options: options)
            var progress = ProgressLine()
            let merged = try store.compact(includeOpenWindows: all) { progress.update("compacting: \($0)") }
            let dropped = try store.applyRetention()
            progress.finish()
            print("compaction wrote \(merged) segments; retention dropped \(dropped) segments")
            try store.close()
        }
    }
}

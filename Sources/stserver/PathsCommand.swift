import ArgumentParser
import PathTSDB
import Query

/// `stserver paths`: the routes a target took, and when.
struct PathsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paths",
        abstract: "List the routes a target took in a time range: first and last seen, runs, hops.",
        discussion: """
            The same answer as:
              stserver query --at newest 'paths of NAME from FROM to TO'
            """)

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Target name.")
    var target: String

    @OptionGroup var time: TimeRangeOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        try QueryShorthand.run(store: store, format: output.format) { snap in
            var q = ParsedQuery(kind: .paths)
            q.targets = [.name(target)]
            q.range = try time.spec(in: snap)
            return q
        }
    }
}

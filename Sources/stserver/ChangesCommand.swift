import ArgumentParser
import PathTSDB
import Query

/// `stserver changes`: the path-change events of a time range.
struct ChangesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "List path changes: when, which target, the first hop that differs, hop counts before and after.",
        discussion: """
            The same answer as:
              stserver query --at newest 'changes [of NAME] from FROM to TO'
            `stserver diff OLD NEW` shows two of its paths hop by hop.
            """)

    @OptionGroup var store: DataOptions

    @Option(name: .long, help: "Only this target.")
    var target: String?

    @OptionGroup var time: TimeRangeOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        try QueryShorthand.run(store: store, format: output.format) { snap in
            var q = ParsedQuery(kind: .changes)
            q.targets = target.map { [.name($0)] } ?? []
            q.range = try time.spec(in: snap)
            return q
        }
    }
}

import ArgumentParser
import PathTSDB
import Query

/// `stserver diff`: two paths side by side, hop by hop.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two paths hop by hop (path ids from `paths`, `changes` or the query language).")

    @OptionGroup var store: DataOptions

    @Argument(help: "The old path's id.")
    var old: UInt32

    @Argument(help: "The new path's id.")
    var new: UInt32

    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingErrors {
            let store = try store.openForReading()
            defer { try? store.close() }
            let catalog = store.snapshot().catalog
            func path(_ id: UInt32) throws -> PathHops {
                guard let p = catalog.path(of: PathID(rawValue: id)) else { throw StorageError(.notFound, "no path with id \(id)") }
                return p
            }
            let rows = try path(old).diff(to: try path(new))
            var table = ResultTable(columns: ["ttl", "old", "new", "change"])
            func text(_ a: AddressID) -> ResultValue { a.isNone ? .text("*") : .text(catalog.address(of: a)?.description ?? "?") }
            for r in rows { table.rows.append([.integer(Int64(r.ttl)), text(r.old), text(r.new), .text(r.change.rawValue)]) }
            print(output.format.render(table), terminator: "")
        }
    }
}

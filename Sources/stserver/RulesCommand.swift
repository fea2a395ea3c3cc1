import Alerting
import ArgumentParser

/// `stserver rules`: work with alert rules files.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check alert rules files.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check a rules file: every rule, receiver and route, with errors naming line and column.",
            discussion: "Exit status 0 when the file is valid; otherwise the first error is printed as FILE:LINE:COLUMN: cause.")

        @Argument(help: "The rules file (YAML).")
        var file: String

        func run() throws {
            try reportingErrors {
                let rules = try RulesFile.parse(try readFile(file), source: file)
                print("\(file): \(rules.rules.count) rules, \(rules.receivers.count) receivers, \(rules.routes.count) routes")
                for r in rules.rules {
                    print("  \(r.name): \(r.condition.kind), \(r.severity.rawValue), for \(r.pending)")
                }
            }
        }
    }
}

import Alerting
import ArgumentParser

/// `stserver rules`: work with alert rules files.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check alert rules files and run their unit tests.",
        subcommands: [Check.self, Test.self])

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

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Run rule unit tests: series of runs and the alerts they must raise (docs/ALERTS.md, \"Testing rules\").",
            discussion: "Each test runs in a temporary store through the server's own engine. Exit status 0 when every test passes, 1 when one fails, 65 when a file does not read.")

        @Argument(help: "Test files (YAML), each naming its rules file.")
        var files: [String]

        func run() throws {
            try reportingErrors {
                var failed = 0
                for file in files {
                    let tests = try RuleTestFile.load(file)
                    for outcome in try tests.run() {
                        if outcome.passed {
                            print("PASS \(file): \(outcome.name)")
                            continue
                        }
                        failed += 1
                        print("FAIL \(file): \(outcome.name)")
                        for m in outcome.missing { print("  expected, not raised: \(m)") }
                        for u in outcome.unexpected { print("  raised, not expected: \(u)") }
                    }
                }
                if failed > 0 { throw ExitCode(1) }
            }
        }
    }
}

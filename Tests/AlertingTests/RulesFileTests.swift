import Alerting
import Foundation
import Testing

@Suite struct RulesFileTests {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func theShippedExampleReadsWhole() throws {
        let path = Self.repository.appendingPathComponent("examples/rules.yaml").path
        let file = try RulesFile.parse(String(contentsOfFile: path, encoding: .utf8), source: path)
        #expect(file.rules.count == 12)
        #expect(Set(file.rules.map(\.condition.kind)) == ["path_changed", "hop_count_grew", "destination_unreachable", "new_address",
                                                          "rtt_increase", "loss", "pattern", "flapping", "as_path_changed", "query"])
        #expect(file.receivers.map(\.name) == ["noc-hook", "alertmanager", "noc-mail", "log"])
        #expect(file.routes.count == 3)
        let loss = try #require(file.rules.first { $0.name == "destination-loss" })
        #expect(loss.condition == .loss(hop: .destination, percent: 20, runs: 5))
        #expect(loss.pending == .runs(2) && loss.resolveAfterRuns == 3 && loss.severity == .critical)
        #expect(file.rules.first { $0.name == "latency-up-weekly" }?.pending == .nOfM(3, 5))
        #expect(file.rules.first { $0.name == "lossy-by-query" }?.pending == .duration(600_000_000))
        #expect(file.rules.first { $0.name == "core-path-changed" }?.condition
                == .pathChanged(ttls: 3...12, ignoreFirst: 0, lasting: 1, acceptAfterMicros: 6 * 3_600_000_000))
    }

    /// (file text, expected line, column, words of the message)
    static let bad: [(String, Int, Int, String)] = [
        ("rules:\n  - name: a\n    when: { loss: { percent: 5 } }\n    severty: critical\n", 4, 5, "unknown key 'severty'"),
        ("rules:\n  - name: a\n    when:\n      query: \"stats loss of all wher loss > 5\"\n", 4, 33, "query:"),
        ("rules:\n  - name: a\n    when: { flapping: { changes: 3, within: 5 parsecs } }\n", 3, 45, "within must be a duration"),
        ("rules:\n  - name: a\n    when: { loss: { percent: 5 } }\n    for: soon\n", 4, 10, "for must be"),
        ("rules:\n  - name: a\n    when: { pattern: { loss: \">10,*3*\" } }\n", 3, 30, "pattern entry 1"),
        ("rules:\n  - name: a\n    when: { teleport: {} }\n", 3, 13, "unknown condition 'teleport'"),
        ("rules: [\n", 2, 1, "YAML"),
        ("receivers:\n  - name: r\n    program: { command: [sh, -c, \"echo\"] }\n", 3, 25, "absolute path"),
        ("routes:\n  - receiver: nowhere\n", 2, 5, "not defined under receivers"),
    ]

    @Test(arguments: bad.indices) func aBadFileNamesLineColumnAndCause(_ i: Int) {
        let (text, line, column, words) = Self.bad[i]
        do {
            _ = try RulesFile.parse(text, source: "r.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.description.contains(words), "\(error)")
            #expect(error.description.hasPrefix("r.yaml:\(line):"), "\(error)")
        }
    }

    @Test func smokePingPatterns() throws {
        let p = try SmokePingPattern(figure: .loss, text: ">10%,*3*,>10%")
        #expect(p.matches([20, 0, 0, 30]))
        #expect(p.matches([20, 30]))
        #expect(p.matches([5, 20, 0, 0, 0, 30]))
        #expect(!p.matches([20, 0, 0, 0, 0, 30]), "more than 3 runs between")
        #expect(!p.matches([20, 0, 0, 5]), "the newest run must match the last entry")
        let u = try SmokePingPattern(figure: .rtt, text: "<50,U,>=100ms")
        #expect(u.matches([10, nil, 100]))
        #expect(!u.matches([10, 20, 100]))
        #expect(throws: AlertingError.self) { try SmokePingPattern(figure: .loss, text: ">10%,*3*") }
        #expect(throws: AlertingError.self) { try SmokePingPattern(figure: .loss, text: ">110%") }
    }
}

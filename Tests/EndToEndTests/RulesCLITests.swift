import Foundation
import Testing

/// `stserver rules check` on the shipped example and on a broken file.
@Suite struct RulesCLITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theShippedExamplePassesTheCheck() throws {
        let path = Self.repository.appendingPathComponent("examples/rules.yaml").path
        let r = try stserver(["rules", "check", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("\(path): 12 rules, 4 receivers, 3 routes\n"))
        #expect(r.stdout.contains("  core-path-changed: path_changed, critical, for 1\n"))
    }

    @Test func aBrokenFileIsRefusedWithLineColumnAndCause() throws {
        let dir = TemporaryDirectory("smoketrace-rules")
        defer { dir.remove() }
        let path = dir.path + "/rules.yaml"
        try "rules:\n  - name: a\n    when: { loss: { percent: 120 } }\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try stserver(["rules", "check", path])
        #expect(r.status == 65)
        #expect(r.stderr == "stserver: \(path):3:30: rule 'a': when loss: percent must be a number from 0 to 100\n")
    }

    @Test func theShippedRuleTestsPass() throws {
        let path = Self.repository.appendingPathComponent("examples/rules-test.yaml").path
        let r = try stserver(["rules", "test", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 4 && !r.stdout.contains("FAIL"), "\(r.stdout)")
    }

    @Test func aRuleTestThatDoesNotHoldFailsNamingWhatDiffers() throws {
        let dir = TemporaryDirectory("smoketrace-rule-tests")
        defer { dir.remove() }
        try "rules:\n  - name: pc\n    when: { path_changed: {} }\n".write(toFile: dir.path + "/r.yaml", atomically: true, encoding: .utf8)
        try """
            rules: r.yaml
            tests:
              - name: expects the wrong run
                runs:
                  - { count: 3, hops: [10.0.0.1, 10.0.0.9] }
                  - { count: 2, hops: [10.0.0.2, 10.0.0.9] }
                alerts:
                  - { rule: pc, state: firing, run: 5 }
            """.write(toFile: dir.path + "/t.yaml", atomically: true, encoding: .utf8)
        let r = try stserver(["rules", "test", dir.path + "/t.yaml"])
        #expect(r.status == 1)
        #expect(r.stdout == "FAIL \(dir.path)/t.yaml: expects the wrong run\n  expected, not raised: pc firing at run 5\n  raised, not expected: pc firing at run 4\n")
    }
}

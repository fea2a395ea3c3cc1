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
}

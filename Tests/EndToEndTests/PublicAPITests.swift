import Foundation
import Testing

/// The libraries' public faces: what an embedder may use is documented, and a module that is
/// not a product exposes nothing (its siblings reach it with `package` access).
@Suite struct PublicAPITests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Library products, whose public declarations are their API.
    static let products = ["PathTSDB", "Query", "Probe"]
    /// Modules only the executable uses.
    static let internalModules = ["Alerting"]


    struct Declaration: CustomStringConvertible {
        var file: String
        var line: Int
        var text: String
        var description: String { "\(file):\(line): \(text.trimmingCharacters(in: .whitespaces))" }
    }

    static func publicDeclarations(in module: String) throws -> [(Declaration, documented: Bool)] {
        let dir = sources.appendingPathComponent(module)
        guard let files = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        // A declaration made public, after any attributes (`@inlinable public func`); not an import.
        let publicDeclaration = try Regex(#"^\s*(@\w+(\([^)]*\))?\s+)*public\b(?!\s+import)"#)
        let attributeLine = try Regex(#"^\s*@\w+(\([^)]*\))?\s*$"#)
        // Members a protocol documents: comparison, hashing, description, raw values.
        let protocolWitness = try Regex(#"static func (<|==) |var description: String|init\(rawValue:|let rawValue|func hash\(into"#)
        var out = [(Declaration, documented: Bool)]()
        for case let name as String in files where name.hasSuffix(".swift") {
            let lines = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (i, line) in lines.enumerated() where line.firstMatch(of: publicDeclaration) != nil {
                var j = i - 1
                while j >= 0, lines[j].wholeMatch(of: attributeLine) != nil { j -= 1 }
                let above = j >= 0 ? lines[j].trimmingCharacters(in: .whitespaces) : ""
                let documented = above.hasPrefix("///") || above.hasSuffix("*/") || line.firstMatch(of: protocolWitness) != nil
                out.append((Declaration(file: "\(module)/\(name)", line: i + 1, text: line), documented))
            }
        }
        return out
    }

    @Test(arguments: products)
    func everyPublicDeclarationIsDocumented(module: String) throws {
        let all = try Self.publicDeclarations(in: module)
        #expect(!all.isEmpty, "\(module) is a product and has no public API")
        let undocumented = all.filter { !$0.documented }.map(\.0)
        #expect(undocumented.isEmpty, "public declarations without a doc comment:\n\(undocumented.map(\.description).joined(separator: "\n"))")
    }

    @Test(arguments: internalModules)
    func aModuleThatIsNoProductExposesNothing(module: String) throws {
        let all = try Self.publicDeclarations(in: module).map(\.0)
        #expect(all.isEmpty, "\(module) is no product; make these package:\n\(all.map(\.description).joined(separator: "\n"))")
    }
}

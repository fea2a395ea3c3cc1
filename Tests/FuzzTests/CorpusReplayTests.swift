import Foundation
import Testing
import FuzzTargets

/// Every committed corpus input (seeds, and the inputs that once crashed a reader, kept so they
/// never do again) through its target: each returns, and the seeds that are real tool output
/// or real stored bytes are read, not refused.
@Suite struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static func inputs(of target: FuzzTarget) -> [(String, [UInt8])] {
        let dir = corpus.appendingPathComponent(target.description).path
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return names.compactMap { name in FileManager.default.contents(atPath: dir + "/" + name).map { (name, Array($0)) } }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyInputOfTheCorpusReturns(_ target: FuzzTarget) throws {
        let scratch = try FuzzScratch()
        defer { scratch.remove() }
        let inputs = CorpusReplayTests.inputs(of: target)
        #expect(!inputs.isEmpty, "Fuzz/Corpus/\(target.description) holds no seed")
        for (name, bytes) in inputs {
            let outcome = target.run(bytes, scratch: scratch)
            // Seeds named "ok-…" are valid input: read, with something in it.
            if name.hasPrefix("ok-") {
                guard case .accepted(let items) = outcome else {
                    Issue.record("\(target.description)/\(name): \(outcome)")
                    continue
                }
                #expect(items > 0, "\(target.description)/\(name) read as empty")
            }
        }
    }
}

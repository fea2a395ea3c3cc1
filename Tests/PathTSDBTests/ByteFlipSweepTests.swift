import Foundation
import Testing
@testable import PathTSDB

/// Every byte of a small segment, flipped one at a time: each flip is found (an error when the
/// file is opened or read) or changes nothing that is read back, and none traps.
@Suite struct ByteFlipSweepTests {
    /// `segments`: a segment cut from the head; `rollups`: the rollup-only file retention
    /// leaves in its place (the same format, level 255, no raw chunks).
    @Test(arguments: ["segments", "rollups"])
    func everyByteOfASegmentIsCheckedOrHarmless(kind: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var o = StoreOptions()
        o.walSync = .never
        o.rawRetention = .seconds(3600)
        do {
            let store = try PathStore(directory: dir.path, options: o)
            try store.append(RunFactory.runs(count: 24, targets: 2))
            try store.flush()
            if kind == "rollups" { #expect(try store.applyRetention(now: 1_796_000_000_000_000) == 1) }
            try store.close()
        }
        let store = try PathStore(directory: dir.path, options: o)
        let catalog = store.snapshot().catalog
        try store.close()
        let seg = dir.path + "/\(kind)/" + (try #require(files(in: dir.path + "/\(kind)").first { $0.hasSuffix(".seg") }))
        let original = fileBytes(seg)
        let targets = catalog.targets.map(\.0)

        /// Everything a reader takes from the file.
        func contents(_ path: String) throws(StorageError) -> [String] {
            let s = try Segment(path: path, verifyBlocks: false)
            var out = ["\(s.version) \(s.level) \(s.id) \(s.minStartMicros) \(s.maxStartMicros)"]
            out.append("\(try s.events())")
            for t in targets {
                let table = try s.runs(of: t, catalog: catalog)
                out.append("\(table.runs) \(table.probes) \(table.probes.map { table.mplsLabels(of: $0) })")
                out.append("\(try s.rollups(of: t))")
            }
            out.append("\(try s.detectorState().flows)")
            return out
        }
        let expected = try contents(seg)
        let damaged = dir.path + "/damaged.seg"
        var found = 0, harmless: [Int] = []
        for position in original.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var bytes = original
                bytes[position] ^= mask
                writeFileBytes(bytes, damaged)
                do {
                    if try contents(damaged) == expected { harmless.append(position) } else {
                        Issue.record("flip \(mask) at offset \(position) of \(original.count) changed what is read, unnoticed")
                    }
                } catch {
                    #expect(error.code == .corruption || error.code == .unsupportedVersion, "\(error)")
                    #expect(error.file == damaged, "\(error)")
                    found += 1
                }
            }
        }
        print("\(kind) file of \(original.count) bytes: \(found) flips found, \(harmless.count) harmless at \(Set(harmless).sorted())")
    }
}

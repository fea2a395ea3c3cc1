import Foundation
import Testing
import PathTSDB
@testable import Probe

/// warts recorded in the lab (Fixtures/README.md), each read two ways: by `ScamperWartsParser`,
/// and by Debian's `sc_warts2json` (scamper's own reader, run here) followed by
/// `ScamperJSONParser`. The two must give the same traces.
@Suite struct WartsTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let files = ["sc-udp-paris-3.warts", "sc-icmp-paris-all.warts", "sc-tcp.warts", "sc6-udp-paris.warts", "sc-udp.warts",
                        "sc-silent.warts", "sc-trace-and-tracelb.warts"]

    func warts(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: WartsTests.fixtures + "/" + name))) }

    /// `sc_warts2json FILE`'s output.
    func scamperJSON(_ name: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sc_warts2json")
        p.arguments = [WartsTests.fixtures + "/" + name]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: files)
    func sameTracesAsScampersOwnReader(_ name: String) throws {
        let ours = try ScamperWartsParser(source: name).parse(try warts(name))
        let theirs = try ScamperJSONParser(source: name).parse(try scamperJSON(name))
        #expect(!ours.traces.isEmpty)
        #expect(ours.traces == theirs, "\(name)")
        #expect(ours.tracesWithUnreadSections == 0)
    }

    @Test func otherMeasurementsAreCountedNotRead() throws {
        let r = try ScamperWartsParser().parse(try warts("sc-trace-and-tracelb.warts"))
        #expect(r.traces.count == 1 && r.otherObjects == [7: 1, 8: 1])  // a ping and an MDA traceroute
        let three = try ScamperWartsParser().parse(try warts("sc-udp-paris-3.warts"))
        #expect(three.traces.map(\.output.destination) == ["10.99.3.2", "10.99.2.2", "10.99.1.2"].map(IPAddress.init))
        #expect(three.traces.allSatisfy { $0.method == .udpParis && $0.stopReason == "COMPLETED" })
    }

    /// Every cut of a file is an error naming the offset, or the traces before the cut; never a
    /// trap. Every flipped byte is an error or a trace, never a trap.
    @Test func truncatedAndDamagedFilesAreErrors() throws {
        let bytes = try warts("sc-udp-paris-3.warts")
        // Object boundaries, from the 8-byte headers: a cut there is a shorter, whole file.
        var boundaries = Set<Int>(), at = 0
        while at + 8 <= bytes.count {
            boundaries.insert(at)
            at += 8 + bytes[(at + 4)..<(at + 8)].reduce(0) { $0 << 8 | Int($1) }
        }
        for cut in 1..<bytes.count {
            do {
                _ = try ScamperWartsParser(source: "cut").parse(Array(bytes[..<cut]))
                #expect(boundaries.contains(cut), "a cut at \(cut) read as a whole file")
            } catch {
                #expect(error.offset != nil && error.source == "cut", "\(error)")
            }
        }
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x5A
            _ = try? ScamperWartsParser(source: "flip").parse(damaged)
        }
        do {
            _ = try ScamperWartsParser(source: "text").parse(Array("{\"type\":\"trace\"}".utf8))
            Issue.record("JSON read as warts")
        } catch {
            #expect(error.offset == 0 && error.message.hasPrefix("not a warts object: magic 0x7b22"))
        }
    }
}

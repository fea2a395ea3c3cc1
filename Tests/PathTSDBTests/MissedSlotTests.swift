import Foundation
import Testing
@testable import PathTSDB

/// Missed slots: durable once recorded, a torn tail cut off and reported, dropped by retention
/// with the raw data of their time.
@Suite struct MissedSlotTests {
    let t0: Int64 = 1_795_284_000_000_000

    func options() -> StoreOptions {
        var o = StoreOptions()
        o.walSync = .never
        return o
    }

    @Test func recordedSlotsSurviveAReopenInOrder() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let slots = [
            MissedSlot(target: "core/gw", vantage: "lon1", slotMicros: t0, reason: .stillRunning),
            MissedSlot(target: "core/web", vantage: "lon1", slotMicros: t0 + 60_000_000, reason: .noCapacity),
            MissedSlot(target: "ünïcode/ziel", vantage: "lon1", slotMicros: t0 - 1, reason: .late),
        ]
        do {
            let store = try PathStore(directory: dir.path, options: options())
            try store.recordMissed(Array(slots.prefix(2)))
            try store.recordMissed([slots[2]])
            #expect(store.snapshot().missedSlots == slots)
            try store.close()
        }
        let store = try PathStore(directory: dir.path, options: options())
        defer { try? store.close() }
        let snap = store.snapshot()
        #expect(snap.missedSlots == slots)
        #expect(snap.missed(in: t0..<(t0 + 1)) == [slots[0]])
        #expect(snap.missed(in: Int64.min..<Int64.max).map(\.target) == ["ünïcode/ziel", "core/gw", "core/web"])
        #expect(throws: StorageError.self) { try store.recordMissed([MissedSlot(target: "", vantage: "x", slotMicros: 0, reason: .late)]) }
    }

    @Test(arguments: [1, 7, 20])
    func aTornTailIsCutOffAndReported(cut: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let slots = (0..<4).map { MissedSlot(target: "t\($0)", vantage: "v", slotMicros: t0 + Int64($0), reason: .late) }
        do {
            let store = try PathStore(directory: dir.path, options: options())
            try store.recordMissed(slots)
            try store.close()
        }
        let path = dir.path + "/missed.ptm"
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.truncate(atOffset: UInt64(size - cut))
        try handle.close()
        let store = try PathStore(directory: dir.path, options: options())
        defer { try? store.close() }
        #expect(store.snapshot().missedSlots == Array(slots.prefix(3)))
        let problem = try #require(store.recovery.problems.first { $0.file?.hasSuffix("missed.ptm") == true })
        #expect(problem.code == .corruption)
        // Appending after the cut tail works, and reads back.
        try store.recordMissed([slots[3]])
        #expect(store.snapshot().missedSlots == slots)
    }

    @Test func retentionDropsSlotsWithTheirRawData() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var o = options()
        o.rawRetention = .seconds(3600)
        let store = try PathStore(directory: dir.path, options: o)
        try store.recordMissed([
            MissedSlot(target: "old", vantage: "v", slotMicros: t0, reason: .late),
            MissedSlot(target: "new", vantage: "v", slotMicros: t0 + 7_200_000_000, reason: .late),
        ])
        try store.applyRetention(now: t0 + 7_300_000_000)
        #expect(store.snapshot().missedSlots.map(\.target) == ["new"])
        try store.close()
        let again = try PathStore(directory: dir.path, options: o)
        defer { try? again.close() }
        #expect(again.snapshot().missedSlots.map(\.target) == ["new"])
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/missed.ptm.tmp"))
    }
}

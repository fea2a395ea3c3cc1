#if canImport(Glibc)
import Glibc
#endif

/// `missed.ptm`: the append-only log of scheduled runs that did not start (FORMAT.md, "Missed
/// slots"), framed as the catalog is. Appended and fsynced as slots are missed; retention
/// rewrites it without the slots older than the raw data kept (a temporary file renamed over it,
/// so a crash leaves the old file or the new one). Calls are serialised by the owner.
final class MissedSlotFile {
    static let magic: [UInt8] = Array("PTMS".utf8)
    /// Version 2 adds reason 4 (failed) and a detail string after the vantage; version 3 adds
    /// reason 5 (stopped). An older file is marked with the version a record needs in place
    /// before its first such record is appended.
    static let version: UInt16 = 3
    static let oldestVersion: UInt16 = 1
    static let headerSize = 8

    let path: String
    private var file: PosixFile
    private var fileVersion: UInt16
    /// Each target's latest slot in the file: a slot after it is new without a look.
    private var latestSlot: [String: Int64] = [:]

    /// Opens or creates the file and loads every intact slot into `slots`; `tailProblem`
    /// receives what was wrong with a damaged tail, which has then been cut off.
    init(path: String, into slots: inout [MissedSlot], tailProblem: inout StorageError?) throws(StorageError) {
        self.path = path
        if FileSystem.exists(path + ".tmp") { try FileSystem.remove(path + ".tmp") }
        let isNew = !FileSystem.exists(path)
        file = try PosixFile(path: path, flags: O_RDWR | O_CREAT)
        fileVersion = MissedSlotFile.version
        guard let (bytes, version) = try RecordLog.open(file, isNew: isNew, path: path, magic: MissedSlotFile.magic,
                                                        version: MissedSlotFile.version, oldest: MissedSlotFile.oldestVersion,
                                                        kind: "missed-slot") else { return }
        fileVersion = version
        var loaded = [MissedSlot]()
        tailProblem = try RecordLog.load(file, bytes: bytes, from: MissedSlotFile.headerSize, path: path) { (c: inout ByteCursor) throws(StorageError) in
            loaded.append(try MissedSlot.decode(&c))
        }
        slots = loaded
        for slot in loaded { noteHeld(slot) }
    }

    private func noteHeld(_ slot: MissedSlot) {
        latestSlot[slot.target] = max(latestSlot[slot.target] ?? Int64.min, slot.slotMicros)
    }

    /// What tells one missed slot from another: an import run again brings the same ones.
    private struct Identity: Hashable {
        var target: String, vantage: String, slotMicros: Int64, reason: MissedSlot.Reason
        init(_ s: MissedSlot) { (target, vantage, slotMicros, reason) = (s.target, s.vantage, s.slotMicros, s.reason) }
    }

    /// The slots of `slots` that the file does not hold and that no earlier slot of `slots`
    /// repeats (same target, vantage point, time and reason).
    /// - Parameter held: every slot the file holds (read only when a slot needs comparing).
    func unheld(_ slots: [MissedSlot], held: () -> [MissedSlot]) -> [MissedSlot] {
        var latestInBatch = [String: Int64]()
        var compared = Set<String>()
        for slot in slots {
            if slot.slotMicros > max(latestSlot[slot.target] ?? Int64.min, latestInBatch[slot.target] ?? Int64.min) {
                latestInBatch[slot.target] = slot.slotMicros
            } else {
                compared.insert(slot.target)
            }
        }
        guard !compared.isEmpty else { return slots }
        var seen = Set(held().lazy.filter { compared.contains($0.target) }.map(Identity.init))
        return slots.filter { !compared.contains($0.target) || seen.insert(Identity($0)).inserted }
    }

    static var header: [UInt8] { RecordLog.header(magic: magic, version: version) }

    /// The intact slots of the file at `path`, read without opening it for writing.
    static func read(path: String) throws(StorageError) -> [MissedSlot] {
        var slots = [MissedSlot]()
        try RecordLog.readWithoutWriting(path: path, magic: magic, version: version, oldest: oldestVersion, kind: "missed-slot") { (c: inout ByteCursor) throws(StorageError) in
            slots.append(try MissedSlot.decode(&c))
        }
        return slots
    }

    /// Makes `slots` durable, one record each.
    func append(_ slots: [MissedSlot]) throws(StorageError) {
        let needed = slots.map(\.minimumVersion).max() ?? 1
        if fileVersion < needed {
            try RecordLog.markVersion(needed, of: file)
            fileVersion = needed
        }
        var out = [UInt8]()
        RecordLog.append(slots, to: &out) { $0.encode(into: &$1) }
        try RecordLog.write(out, to: file)
        for slot in slots { noteHeld(slot) }
    }

    /// Replaces the file's content with `slots`.
    func rewrite(_ slots: [MissedSlot], directory: String) throws(StorageError) {
        let tmp = path + ".tmp"
        var out = MissedSlotFile.header
        RecordLog.append(slots, to: &out) { $0.encode(into: &$1) }
        let t = try PosixFile(path: tmp, flags: O_RDWR | O_CREAT | O_TRUNC)
        try t.writeAll(out)
        try t.sync()
        try FileSystem.rename(tmp, path)
        try FileSystem.syncDirectory(directory)
        file = t
        fileVersion = MissedSlotFile.version
        _ = try file.seekToEnd()
    }
}

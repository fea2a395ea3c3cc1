/// Names and constants of the write-ahead log (FORMAT.md, "Write-ahead log").
enum WALFormat {
    static let magic: [UInt8] = Array("PTWL".utf8)
    /// The version this build writes. Version 2 adds a run's interrupted and report flags and a
    /// report's figures; a version 1 file reads as one whose runs have neither.
    static let version: UInt16 = 2
    static let readableVersions: ClosedRange<UInt16> = 1...2
    static let fileHeaderSize = 16
    /// length u32 + crc32c u32.
    static let recordHeaderSize = 8
    /// type u8 + sequence u64 + compression u8 + raw length u32.
    static let bodyHeaderSize = 14
    static let maxRecordSize = 256 << 20
    static let runBatchType: UInt8 = 1
    /// Batches at least this large are LZ4-compressed.
    static let compressAbove = 512

    static func fileName(firstSequence: WALSequence) -> String {
        let digits = String(firstSequence.rawValue)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".wal"
    }

    static func firstSequence(ofFileNamed name: String) -> WALSequence? {
        guard name.hasSuffix(".wal"), name.count == 24 else { return nil }
        return UInt64(name.prefix(20)).map(WALSequence.init(rawValue:))
    }
}

/// When the WAL is fsynced, which decides what "acknowledged" survives.
///
/// Every policy survives the writer process being killed: an append returns only after
/// `write(2)` has handed the record to the kernel. The policies differ on power loss or a kernel
/// crash: `.always` loses nothing acknowledged, and shares each sync among the appends written
/// while the one before it ran (group commit); `.interval(d)` can lose what was acknowledged in
/// the last `d`; `.never` leaves it to the kernel's writeback until the next head cut, which
/// always syncs.
public enum WALSyncPolicy: Sendable, Equatable {
    case always
    case interval(Duration)
    case never
}

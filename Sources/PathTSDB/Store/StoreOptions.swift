/// How a store behaves; every field has a default that suits a monitor on one machine.
public struct StoreOptions: Sendable {
    /// When the WAL is fsynced (see `WALSyncPolicy`).
    public var walSync: WALSyncPolicy = .always
    /// A WAL file is closed and a new one started past this size.
    public var walFileBytes: Int64 = 64 << 20
    /// The head is cut into a segment once it holds this many probes (bounds memory: about
    /// 16 bytes a probe).
    public var headCutProbes: Int = 1_000_000
    /// Write head cuts on a thread of their own, so appends go on while the previous head is
    /// written; with false, the append that fills the head writes it.
    public var backgroundCuts: Bool = true
    /// ZSTD level for level-0 segments (cut from the head: written often, kept briefly until
    /// compaction rewrites them).
    public var zstdLevelFresh: Int32 = 1
    /// ZSTD level for compacted segments (written once, kept long).
    public var zstdLevelCompacted: Int32 = 19
    /// Compaction merges segments whose data starts in the same aligned window; one window per
    /// level above 0.
    public var compactionWindows: [Duration] = [.seconds(2 * 3600), .seconds(86400)]
    /// Raw data older than this is dropped, after its rollups are written; nil keeps it forever.
    public var rawRetention: Duration? = nil
    /// Check every block's checksum when a segment is opened (not only the index's).
    public var verifySegmentsOnOpen: Bool = true

    /// The defaults.
    public init() {}
}

/// What opening a store found and did: the damage it found, and what it did about it.
public struct RecoveryReport: Sendable {
    /// Problems found in WAL files, catalog or segments, with file and offset.
    public var problems: [StorageError] = []
    /// WAL records replayed into the head.
    public var replayedRecords: Int = 0
    /// Segments moved to `quarantine/` because they failed a check.
    public var quarantined: [String] = []
    /// Leftovers of an interrupted compaction or retention that were removed.
    public var removedLeftovers: [String] = []

    /// An empty report: nothing found, nothing done.
    public init() {}
}

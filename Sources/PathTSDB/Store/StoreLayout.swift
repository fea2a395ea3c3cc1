/// Where each file of a store lives under its directory (FORMAT.md, "Directory layout"). Every
/// on-disk name of the store is spelled here and nowhere else; file names inside `segments/`,
/// `rollups/` and `wal/` come from `SegmentFormat` and `WALFormat`, which also read them back.
package struct StoreLayout: Sendable, Equatable {
    /// The store's directory.
    package let directory: String

    package init(directory: String) {
        self.directory = directory
    }

    /// Immutable segments of raw data (with their rollups), one file each.
    package var segments: String { directory + "/segments" }
    /// Rollup-only segments, left when retention dropped a segment's raw data.
    package var rollups: String { directory + "/rollups" }
    /// The write-ahead log's files.
    package var wal: String { directory + "/wal" }
    /// Files set aside because they are damaged; never read again, never deleted by the store.
    package var quarantine: String { directory + "/quarantine" }
    /// The dictionary of targets, addresses and paths. Its presence is what makes a directory
    /// a store.
    package var catalog: String { directory + "/catalog.ptc" }
    /// Slots the monitor could not run, and traces that failed.
    package var missed: String { directory + "/missed.ptm" }
    /// Alerts, notifications, deliveries, silences and acknowledgements.
    package var alerts: String { directory + "/alerts.pta" }
    /// The writer's lock (holding its pid).
    package var lock: String { directory + "/LOCK" }

    /// The subdirectories a store has, created on open.
    var subdirectories: [String] { [segments, wal, rollups, quarantine] }

    /// Whether `directory` holds a store (its catalog exists).
    package var exists: Bool { FileSystem.exists(catalog) }

    /// The path of `name` inside `subdirectory` (one of this layout's directories).
    static func path(_ name: String, in subdirectory: String) -> String { subdirectory + "/" + name }
}

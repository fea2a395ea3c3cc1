/// One block of a segment file that does not read: which block, and the error that says where
/// and why. A chunk or a rollup block costs one target's data of the segment; the events or
/// detector-state block costs what that block holds.
package struct SegmentBlockDamage: Sendable {
    package enum Block: Sendable, Equatable {
        /// The runs of one target.
        case chunk(TargetID)
        /// The rollup rows of one target.
        case rollups(TargetID)
        /// The segment's path-change events.
        case events
        /// The path-change detector's state at the segment's end.
        case detectorState
    }

    package var block: Block
    package var error: StorageError
}

/// A target's path changed: written at ingest, when a run's path is not one of the paths the
/// target was taking.
public struct PathChangeEvent: Hashable, Sendable {
    /// The target whose path changed.
    public var target: TargetID
    /// The vantage point it was traced from.
    public var vantage: VantageID
    /// Start of the first run that showed the new path, microseconds since the epoch.
    public var timeMicros: Int64
    /// The path before the change.
    public var oldPath: PathID
    /// The path after it.
    public var newPath: PathID
    /// The first TTL whose hop differs (an unresponsive hop counts as different).
    public var firstDifferingTTL: UInt8
    /// TTLs the old path spanned.
    public var oldHopCount: UInt8
    /// TTLs the new path spans.
    public var newHopCount: UInt8
    /// What else the event says; every flag is false in events of segment versions 1 to 3,
    /// which did not record them.
    public var flags: Flags

    /// Facts of a change beside the two paths.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The destination answered on the old path (its last run before the change).
        public static let oldReached = Flags(rawValue: 1)
        /// The destination answered on the new path (the run that showed it).
        public static let newReached = Flags(rawValue: 2)
        /// The destination address itself changed (a name that now resolves elsewhere).
        public static let destinationChanged = Flags(rawValue: 4)
        /// The paths are load-balanced routes of runs whose probes do not share one flow
        /// (classic traceroute, mtr): the set of branches changed.
        public static let loadBalanced = Flags(rawValue: 8)
        /// Every flag a reader of this version knows.
        static let known: Flags = [.oldReached, .newReached, .destinationChanged, .loadBalanced]
    }

    /// An event with every field given.
    public init(target: TargetID, vantage: VantageID, timeMicros: Int64, oldPath: PathID, newPath: PathID,
                firstDifferingTTL: UInt8, oldHopCount: UInt8, newHopCount: UInt8, flags: Flags = []) {
        self.target = target
        self.vantage = vantage
        self.timeMicros = timeMicros
        self.oldPath = oldPath
        self.newPath = newPath
        self.firstDifferingTTL = firstDifferingTTL
        self.oldHopCount = oldHopCount
        self.newHopCount = newHopCount
        self.flags = flags
    }

    /// Whether the destination answered before and after differ.
    public var reachedChanged: Bool { flags.contains(.oldReached) != flags.contains(.newReached) }
}

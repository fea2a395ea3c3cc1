/// A target's path changed: written at ingest, when a run's path is not one of the paths the
/// target was taking.
public struct PathChangeEvent: Hashable, Sendable {
    public var target: TargetID
    public var vantage: VantageID
    /// Start of the run that showed the new path, microseconds since the epoch.
    public var timeMicros: Int64
    public var oldPath: PathID
    public var newPath: PathID
    /// The first TTL whose hop differs (an unresponsive hop counts as different).
    public var firstDifferingTTL: UInt8
    public var oldHopCount: UInt8
    public var newHopCount: UInt8

    public init(target: TargetID, vantage: VantageID, timeMicros: Int64, oldPath: PathID, newPath: PathID,
                firstDifferingTTL: UInt8, oldHopCount: UInt8, newHopCount: UInt8) {
        self.target = target
        self.vantage = vantage
        self.timeMicros = timeMicros
        self.oldPath = oldPath
        self.newPath = newPath
        self.firstDifferingTTL = firstDifferingTTL
        self.oldHopCount = oldHopCount
        self.newHopCount = newHopCount
    }
}

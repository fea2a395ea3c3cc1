/// One path a target took, and when.
public struct PathLifetime: Sendable, Equatable {
    public var path: PathID
    public var firstSeenMicros: Int64
    public var lastSeenMicros: Int64
    public var runs: Int
    /// Runs on this path that reached the destination.
    public var reachedRuns: Int
}

extension StoreSnapshot {
    /// The paths `target` took in `range`, in order of first appearance.
    public func pathLifetimes(target: TargetID, range: Range<Int64>) -> (paths: [PathLifetime], problems: [StorageError]) {
        let (table, problems) = runs(of: target, in: range)
        var order = [PathID]()
        var byPath = [PathID: PathLifetime]()
        for r in table.runs {
            if var p = byPath[r.path] {
                p.firstSeenMicros = min(p.firstSeenMicros, r.startMicros)
                p.lastSeenMicros = max(p.lastSeenMicros, r.startMicros)
                p.runs += 1
                p.reachedRuns += r.reached ? 1 : 0
                byPath[r.path] = p
            } else {
                order.append(r.path)
                byPath[r.path] = PathLifetime(path: r.path, firstSeenMicros: r.startMicros, lastSeenMicros: r.startMicros,
                                              runs: 1, reachedRuns: r.reached ? 1 : 0)
            }
        }
        return (order.compactMap { byPath[$0] }, problems)
    }
}

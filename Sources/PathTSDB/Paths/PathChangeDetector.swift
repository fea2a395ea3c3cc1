/// Decides, run by run, whether a target's path changed.
///
/// Runs are compared flow by flow: each (target, vantage, flow id) remembers the path its last run
/// took. A run whose path differs from its flow's previous one raises an event only when the new
/// path is not compatible with any path another flow of the same target currently takes. This is
/// what keeps per-flow ECMP quiet: RIPE Atlas rotates its Paris id between runs, so consecutive
/// runs legitimately take sibling branches, but each branch stays with its flow. Two paths are
/// compatible when they have the same length and differ only where one of them has an
/// unresponsive hop, so a hop that fails to answer once is not a change.
struct PathChangeDetector: Sendable {
    struct Key: Hashable, Sendable {
        var target: TargetID
        var vantage: VantageID
    }

    /// The current path of every flow of a (target, vantage).
    private(set) var flows: [Key: [UInt16: PathID]] = [:]

    init() {}

    /// Records a run's path; returns the event it causes, if any.
    mutating func observe(target: TargetID, vantage: VantageID, flow: UInt16, path: PathID,
                          timeMicros: Int64, catalog: Catalog) -> PathChangeEvent? {
        let key = Key(target: target, vantage: vantage)
        var current = flows[key, default: [:]]
        let previous = current[flow]
        current[flow] = path
        defer { flows[key] = current }
        guard let previous, previous != path,
              let newHops = catalog.path(of: path), let oldHops = catalog.path(of: previous) else { return nil }
        if newHops.isCompatible(with: oldHops) { return nil }
        let firstDifference = newHops.firstDifference(from: oldHops) ?? 1
        for (otherFlow, otherPath) in current where otherFlow != flow {
            if otherPath == path { return nil }
            guard let other = catalog.path(of: otherPath) else { continue }
            // Another flow already takes this path, or already made the same change (see
            // `sharesNewTail`). One route change is one event, however many flows see it.
            if other.isCompatible(with: newHops) || PathChangeDetector.sharesNewTail(newHops, old: oldHops, other: other) { return nil }
        }
        return PathChangeEvent(
            target: target, vantage: vantage, timeMicros: timeMicros, oldPath: previous, newPath: path,
            firstDifferingTTL: UInt8(clamping: firstDifference),
            oldHopCount: UInt8(clamping: oldHops.hopCount), newHopCount: UInt8(clamping: newHops.hopCount))
    }

    /// Whether `other` already shows the change from `old` to `new`: from some hop before the
    /// destination on, `other` agrees with `new` where `old` did not. Flows on sibling ECMP
    /// branches see one route change as different full paths, but with the same new tail.
    static func sharesNewTail(_ new: PathHops, old: PathHops, other: PathHops) -> Bool {
        let n = new.hopCount
        guard n >= 2 else { return false }
        let otherFrom = (1...n).first { other.agrees(with: new, fromTTL: $0) } ?? Int.max
        let oldFrom = (1...n).first { old.agrees(with: new, fromTTL: $0) } ?? Int.max
        return otherFrom < oldFrom && otherFrom <= n - 1
    }

    // MARK: - Persistence (stored in each segment's state section)

    func encode(into out: inout [UInt8]) {
        out.appendVarint(flows.count)
        for (key, perFlow) in flows.sorted(by: { ($0.key.target, $0.key.vantage) < ($1.key.target, $1.key.vantage) }) {
            out.appendVarint(key.target.rawValue)
            out.appendVarint(key.vantage.rawValue)
            out.appendVarint(perFlow.count)
            for (flow, path) in perFlow.sorted(by: { $0.key < $1.key }) {
                out.appendVarint(UInt64(flow))
                out.appendVarint(path.rawValue)
            }
        }
    }

    static func decode(_ c: inout ByteCursor) throws(StorageError) -> PathChangeDetector {
        var d = PathChangeDetector()
        let n = try c.readVarintInt()
        for _ in 0..<n {
            let key = Key(target: TargetID(rawValue: UInt32(try c.readVarintInt())),
                          vantage: VantageID(rawValue: UInt32(try c.readVarintInt())))
            let m = try c.readVarintInt(max: 65536)
            var perFlow = [UInt16: PathID]()
            for _ in 0..<m {
                let flow = UInt16(try c.readVarintInt(max: 65535))
                perFlow[flow] = PathID(rawValue: UInt32(try c.readVarintInt()))
            }
            d.flows[key] = perFlow
        }
        return d
    }
}

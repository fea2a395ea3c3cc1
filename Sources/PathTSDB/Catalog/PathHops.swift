/// A path as the dictionary keeps it: the address that answered first at each TTL from 1
/// upwards, `.none` where nothing did; and, for a run whose probes did not share one flow
/// (classic traceroute, mtr, an MDA trace), every other address that answered at a TTL: the
/// branches of a load-balanced hop.
public struct PathHops: Hashable, Sendable {
    /// The address that answered at each TTL, from TTL 1 (`AddressID.none` where none did).
    public var hops: [AddressID]
    /// The addresses beside `hops` that answered at a TTL, in (TTL, address id) order; empty
    /// for a run whose probes all took one path.
    public var branches: [PathBranch]

    package init(_ hops: [AddressID], branches: [PathBranch] = []) {
        self.hops = hops
        self.branches = branches
    }
    /// TTLs the path spans.
    public var hopCount: Int { hops.count }

    /// A route given as the addresses seen at each TTL from 1: the first of each as the hop,
    /// the others as branches. Silence at the end is cut.
    package init(sets: [[AddressID]]) {
        let count = (sets.lastIndex { !$0.isEmpty } ?? -1) + 1
        hops = sets.prefix(count).map { $0.first ?? .none }
        branches = sets.prefix(count).enumerated().flatMap { t, s in
            s.dropFirst().map { PathBranch(ttl: UInt8(t + 1), address: $0) }
        }.sorted()
    }

    /// Whether some TTL answered from more than one address.
    public var isLoadBalanced: Bool { !branches.isEmpty }

    /// Every address that answered at `ttl`, the first one first; empty where none did.
    public func addresses(atTTL ttl: Int) -> [AddressID] {
        let first = address(atTTL: ttl)
        guard !first.isNone else { return [] }
        return [first] + branches.lazy.filter { Int($0.ttl) == ttl }.map(\.address)
    }

    /// The path a run took, with every address that answered at each TTL: the first as the hop,
    /// the others as branches. Used for runs whose probes do not share one flow.
    static func withBranches(probes: [ProbeRecord]) -> PathHops {
        var path = of(probes: probes)
        var seen = Set<PathBranch>()
        for p in probes where !p.address.isNone && path.hops[Int(p.ttl) - 1] != p.address {
            seen.insert(PathBranch(ttl: p.ttl, address: p.address))
        }
        path.branches = seen.sorted()
        return path
    }


    /// The address at `ttl` (1-based), `.none` past the end.
    @inlinable public func address(atTTL ttl: Int) -> AddressID {
        ttl >= 1 && ttl <= hops.count ? hops[ttl - 1] : .none
    }

    /// The path a run took: the first address that answered at each TTL up to the highest probed.
    static func of(probes: [ProbeRecord]) -> PathHops {
        guard let maxTTL = probes.last?.ttl else { return PathHops([]) }
        var hops = [AddressID](repeating: .none, count: Int(maxTTL))
        for p in probes where !p.address.isNone && hops[Int(p.ttl) - 1].isNone {
            hops[Int(p.ttl) - 1] = p.address
        }
        return PathHops(hops)
    }

    /// Whether two paths are the same but for hops that did not answer in one of them. Hops past
    /// the end of the shorter path count as unanswered there: when a run's probes to the
    /// destination are all lost, the tracer goes on probing higher TTLs, and that tail of silence
    /// is no evidence of another path.
    package func isCompatible(with other: PathHops) -> Bool {
        let n = max(hops.count, other.hops.count)
        for ttl in 1...max(n, 1) {
            let a = address(atTTL: ttl), b = other.address(atTTL: ttl)
            if a != b && !a.isNone && !b.isNone { return false }
        }
        // A longer path must differ only by silence: an answering hop past the other's end is
        // a longer route, not a quieter one.
        let (short, long) = hops.count <= other.hops.count ? (self, other) : (other, self)
        if long.hops.dropFirst(short.hops.count).allSatisfy(\.isNone) { return true }
        // Both end at the same answering hop (the destination), reached one or more TTLs later
        // in the longer path because every probe in between was lost: silence again.
        guard let end = short.hops.last, !end.isNone, long.hops.last == end else { return false }
        let shortCount = short.hops.count
        for i in 0..<(shortCount - 1) where short.hops[i] != long.hops[i] && !short.hops[i].isNone && !long.hops[i].isNone {
            return false
        }
        return long.hops[(shortCount - 1)..<(long.hops.count - 1)].allSatisfy(\.isNone)
    }

    /// The first TTL at which the paths differ (counting an unresponsive hop as a difference),
    /// or nil when they are equal.
    package func firstDifference(from other: PathHops) -> Int? {
        let n = max(hops.count, other.hops.count)
        for ttl in 1...max(n, 1) where address(atTTL: ttl) != other.address(atTTL: ttl) { return ttl }
        return nil
    }
}

/// One more address that answered at a TTL of a load-balanced hop.
public struct PathBranch: Hashable, Comparable, Sendable {
    /// The TTL at which the path forks.
    public var ttl: UInt8
    /// One of the addresses that answered at that TTL.
    public var address: AddressID
    /// The branch through `address` at `ttl`.
    public init(ttl: UInt8, address: AddressID) {
        self.ttl = ttl
        self.address = address
    }
    public static func < (a: Self, b: Self) -> Bool { (a.ttl, a.address) < (b.ttl, b.address) }
}

/// A path as the dictionary keeps it: the address that answered at each TTL from 1 upwards,
/// `.none` where nothing did.
public struct PathHops: Hashable, Sendable {
    public var hops: [AddressID]
    public init(_ hops: [AddressID]) { self.hops = hops }
    public var hopCount: Int { hops.count }

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

    /// Whether two paths are the same but for hops that did not answer in one of them.
    public func isCompatible(with other: PathHops) -> Bool {
        guard hops.count == other.hops.count else { return false }
        for i in hops.indices where hops[i] != other.hops[i] && !hops[i].isNone && !other.hops[i].isNone {
            return false
        }
        return true
    }

    /// Whether the paths have the same length and the same hops from `ttl` on, an unresponsive
    /// hop matching any address.
    public func agrees(with other: PathHops, fromTTL ttl: Int) -> Bool {
        guard hops.count == other.hops.count, ttl >= 1 else { return false }
        for i in (ttl - 1)..<hops.count where hops[i] != other.hops[i] && !hops[i].isNone && !other.hops[i].isNone {
            return false
        }
        return true
    }

    /// The first TTL at which the paths differ (counting an unresponsive hop as a difference),
    /// or nil when they are equal.
    public func firstDifference(from other: PathHops) -> Int? {
        let n = max(hops.count, other.hops.count)
        for ttl in 1...max(n, 1) where address(atTTL: ttl) != other.address(atTTL: ttl) { return ttl }
        return nil
    }
}

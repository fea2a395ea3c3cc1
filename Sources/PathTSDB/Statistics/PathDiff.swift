/// One TTL of a hop-by-hop comparison of two paths.
package struct PathDiffRow: Sendable, Equatable {
    /// How the TTL compares.
    package enum Change: String, Sendable {
        /// The same address answered at this TTL on both paths.
        case same
        /// Different addresses answered.
        case changed
        /// Only the new path answered here (the old one was silent or shorter).
        case added
        /// Only the old path answered here.
        case removed
        /// Neither answered.
        case silent
    }

    /// The TTL, from 1.
    package var ttl: Int
    /// Who answered there on the old path (`.none`: nobody, or past its end).
    package var old: AddressID
    /// Who answered there on the new path.
    package var new: AddressID
    package var change: Change
}

extension PathHops {
    /// The hop-by-hop comparison of this (old) path with `new`, over the longer of the two.
    package func diff(to new: PathHops) -> [PathDiffRow] {
        let n = max(hopCount, new.hopCount)
        return (0..<n).map { i in
            let a = address(atTTL: i + 1), b = new.address(atTTL: i + 1)
            let change: PathDiffRow.Change = switch (a.isNone, b.isNone) {
            case (true, true): .silent
            case (true, false): .added
            case (false, true): .removed
            case (false, false): a == b ? .same : .changed
            }
            return PathDiffRow(ttl: i + 1, old: a, new: b, change: change)
        }
    }
}

extension PathHops {
    /// The TTLs at which this (old) path and `new` differ: both answered there, from different
    /// sets of addresses, or one answered past the other's end. A TTL where one of them probed
    /// and heard nothing shows no difference: silence agrees with nothing and contradicts nothing.
    package func differingTTLs(to new: PathHops) -> [Int] {
        (1...max(max(hopCount, new.hopCount), 1)).filter { ttl in
            let a = Set(addresses(atTTL: ttl)), b = Set(new.addresses(atTTL: ttl))
            if a.isEmpty && b.isEmpty { return false }
            if a.isEmpty { return ttl > hopCount }
            if b.isEmpty { return ttl > new.hopCount }
            return a != b
        }
    }
}

/// One TTL of a hop-by-hop comparison of two paths.
public struct PathDiffRow: Sendable, Equatable {
    /// How the TTL compares.
    public enum Change: String, Sendable {
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
    public var ttl: Int
    /// Who answered there on the old path (`.none`: nobody, or past its end).
    public var old: AddressID
    /// Who answered there on the new path.
    public var new: AddressID
    public var change: Change
}

extension PathHops {
    /// The hop-by-hop comparison of this (old) path with `new`, over the longer of the two.
    public func diff(to new: PathHops) -> [PathDiffRow] {
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

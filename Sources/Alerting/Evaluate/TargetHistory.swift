import PathTSDB

/// One target's recent past as rules read it: its runs, oldest first, its path-change events,
/// and, for week-over-week baselines, its runs of a week before.
struct TargetHistory: Sendable {
    var target: String
    var tags: [String]
    var runs: [RunSummary]
    var events: [PathChangeEvent]
    var weekAgo: [RunSummary]
    var catalog: Catalog

    func addressText(_ id: AddressID) -> String {
        id.isNone ? "*" : (catalog.address(of: id)?.description ?? "?")
    }

    /// The path of `id` hop by hop, branches joined by `|`.
    func hops(of id: PathID) -> [AlertEvidence.PathHop] {
        guard let p = catalog.path(of: id) else { return [] }
        return (0..<p.hopCount).map { ttl0 in
            let ttl = ttl0 + 1
            let all = p.addresses(atTTL: ttl)
            return AlertEvidence.PathHop(ttl: ttl, address: all.isEmpty ? "*" : all.map(addressText).joined(separator: "|"))
        }
    }
}

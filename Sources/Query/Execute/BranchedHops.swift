package import PathTSDB

/// Whether a hop answered from more than one address: the branches of a load balancer. The
/// per-hop view splits such hops by address unless told otherwise, so that the RTTs of two
/// branches are never blended into one figure without saying so.
package enum BranchedHops {
    /// Whether any hop of the targets `q` selects answered from two or more addresses in its
    /// time range, across the paths their runs took (a path of a classic tracer may itself hold
    /// several addresses at a TTL; Paris runs on different flows take one branch each).
    package static func present(for q: ParsedQuery, snapshot: StoreSnapshot, context: QueryContext) throws(QueryError) -> Bool {
        let plan = try QueryPlanner.plan(q, snapshot: snapshot, context: context)
        for target in plan.targets {
            try context.checkDeadline()
            var paths = Set<PathID>()
            for table in snapshot.runTables(of: target.id, in: plan.range, fields: .timing).tables {
                for run in table.runs where plan.reads(run.path, of: target.id) { paths.insert(run.path) }
            }
            var first = [Int: AddressID]()
            for id in paths {
                guard let hops = snapshot.catalog.path(of: id), hops.hopCount > 0 else { continue }
                for ttl in 1...hops.hopCount {
                    for a in hops.addresses(atTTL: ttl) {
                        if let seen = first[ttl], seen != a { return true }
                        first[ttl] = a
                    }
                }
            }
        }
        return false
    }
}

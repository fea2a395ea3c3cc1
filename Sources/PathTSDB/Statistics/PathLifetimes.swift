/// One path a target took, and when.
package struct PathLifetime: Sendable, Equatable {
    package var path: PathID
    package var firstSeenMicros: Int64
    package var lastSeenMicros: Int64
    package var runs: Int
    /// Runs on this path that reached the destination.
    package var reachedRuns: Int
}

extension StoreSnapshot {
    /// The paths `target` took in `range`, in order of first appearance.
    package func pathLifetimes(target: TargetID, range: Range<Int64>) -> (paths: [PathLifetime], problems: [StorageError]) {
        let (table, problems) = runs(of: target, in: range, fields: .timing)
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

/// One route a target took: the dictionary paths that differ only by silence (a hop that did not
/// answer in some runs, or silence past the end) or by the branch of a load balancer, taken
/// together, as an operator thinks of a path.
package struct RouteLifetime: Sendable, Equatable {
    /// The first of its paths to appear; it names the route.
    package var path: PathID
    /// Every dictionary path of the route, in order of first appearance.
    package var variants: [PathID]
    /// Per TTL from 1, every address that answered there in the route's runs, in address-id
    /// order; more than one is a load-balanced hop. Trailing silence is cut.
    package var branches: [[AddressID]]
    /// Start of the route's first run, microseconds since the epoch.
    package var firstSeenMicros: Int64
    /// Start of its last run.
    package var lastSeenMicros: Int64
    /// Runs that took it.
    package var runs: Int
    /// Of those, the runs that reached the destination.
    package var reachedRuns: Int

    /// TTLs up to the last one that answered.
    package var hopCount: Int { branches.count }
}

extension StoreSnapshot {
    /// The routes `target` took in `range`, in order of first appearance.
    ///
    /// Addresses that answered at the same TTL within one run are branches of one load-balanced
    /// hop (the run's probes saw both); a path joins the first route it is compatible with
    /// (`PathHops.isCompatible`) once each address stands for its set of branches. So neither a
    /// hop that misses a run nor a probe down the balancer's other branch makes another route.
    package func routeLifetimes(target: TargetID, range: Range<Int64>) -> (routes: [RouteLifetime], problems: [StorageError]) {
        let (table, problems) = runs(of: target, in: range, fields: .timing)
        var siblings = AddressClasses()
        for run in table.runs {
            var first = [UInt8: AddressID]()
            for p in table.probes[run.probeRange] where !p.isLoss {
                if let f = first[p.ttl] { siblings.union(f, p.address) } else { first[p.ttl] = p.address }
            }
        }
        var routes = [RouteLifetime]()
        var canonical = [PathHops]()
        var routeOfPath = [PathID: Int]()
        for run in table.runs {
            let i: Int
            if let known = routeOfPath[run.path] {
                i = known
            } else {
                let hops = catalog.path(of: run.path) ?? PathHops([])
                let c = PathHops(hops.hops.map { $0.isNone ? $0 : siblings.find($0) })
                if let existing = canonical.firstIndex(where: { $0.isCompatible(with: c) }) {
                    i = existing
                    routes[i].variants.append(run.path)
                } else {
                    i = routes.count
                    canonical.append(c)
                    routes.append(RouteLifetime(path: run.path, variants: [run.path], branches: [],
                                                firstSeenMicros: run.startMicros, lastSeenMicros: run.startMicros, runs: 0, reachedRuns: 0))
                }
                routeOfPath[run.path] = i
            }
            routes[i].firstSeenMicros = min(routes[i].firstSeenMicros, run.startMicros)
            routes[i].lastSeenMicros = max(routes[i].lastSeenMicros, run.startMicros)
            routes[i].runs += 1
            routes[i].reachedRuns += run.reached ? 1 : 0
            for p in table.probes[run.probeRange] where !p.isLoss {
                let t = Int(p.ttl) - 1
                while routes[i].branches.count <= t { routes[i].branches.append([]) }
                if !routes[i].branches[t].contains(p.address) { routes[i].branches[t].append(p.address) }
            }
        }
        for i in routes.indices {
            for t in routes[i].branches.indices { routes[i].branches[t].sort() }
        }
        return (routes, problems)
    }
}

/// Disjoint sets of addresses (union–find with path halving), each named by its smallest id.
struct AddressClasses {
    private var parent: [AddressID: AddressID] = [:]

    mutating func find(_ a: AddressID) -> AddressID {
        var x = a
        while let p = parent[x], p != x {
            let grand = parent[p] ?? p
            parent[x] = grand
            x = grand
        }
        return x
    }

    mutating func union(_ a: AddressID, _ b: AddressID) {
        let ra = find(a), rb = find(b)
        guard ra != rb else { return }
        if ra < rb { parent[rb] = ra } else { parent[ra] = rb }
    }
}

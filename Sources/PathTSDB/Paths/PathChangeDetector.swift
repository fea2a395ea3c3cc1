/// Decides, run by run, whether a target's path changed.
///
/// Runs of one flow (Paris traceroute: every probe of the run on one 5-tuple) are compared flow
/// by flow: each (target, vantage, flow id) remembers the path its last run took. A run whose
/// path differs from its flow's previous one raises an event unless another flow of the same
/// target already shows the new path: it takes that very path, or it answers from the new
/// path's addresses at the TTLs where the new path contradicts the old one. This is what keeps
/// per-flow ECMP quiet: RIPE Atlas rotates its Paris id between runs, so consecutive runs
/// legitimately take sibling branches, but each branch stays with its flow. Two paths are
/// compatible when they differ only where one of them has an unresponsive hop, so a hop that
/// fails to answer once is not a change; and a hop that did not answer is no evidence for
/// another flow either.
///
/// Runs whose probes do not share one flow (classic traceroute, mtr, tcptraceroute, or any run
/// that heard two addresses at one TTL) go to the target's `LoadBalancedRoute` instead.
struct PathChangeDetector: Sendable {
    struct Key: Hashable, Sendable {
        var target: TargetID
        var vantage: VantageID
    }

    /// The last run of one flow.
    struct FlowState: Hashable, Sendable {
        var path: PathID
        var reached: Bool
    }

    /// One run, as the detector needs it.
    struct Observation {
        var target: TargetID
        var vantage: VantageID
        var flow: UInt16
        var path: PathID
        var reached: Bool
        var destination: AddressID
        var timeMicros: Int64
        /// The probes did not share one flow.
        var multiFlow: Bool
        /// The run's probes, for a route's counts of answered probes per TTL.
        var probes: [ProbeRecord]
    }

    /// How many flows a target's Paris runs may use and still be compared flow by flow: RIPE
    /// Atlas rotates over 16 Paris ids. A tracer that picks a new flow for every run (scamper
    /// without `-s`) goes past this, and its target is compared with its route from then on; in
    /// the runs before that, a run on a new flow has nothing to be compared with.
    static let repeatingFlows = 16

    /// The current path of every flow of a (target, vantage).
    private(set) var flows: [Key: [UInt16: FlowState]] = [:]
    /// The route of every (target, vantage) traced with runs of many flows.
    private(set) var routes: [Key: LoadBalancedRoute] = [:]
    /// The destination address of each (target, vantage)'s last run.
    private(set) var destinations: [Key: AddressID] = [:]

    init() {}

    /// Records a run's path; returns the event it causes, if any.
    mutating func observe(_ run: Observation, catalog: inout Catalog) -> PathChangeEvent? {
        let key = Key(target: run.target, vantage: run.vantage)
        let destinationChanged = destinations[key].map { $0 != run.destination } ?? false
        destinations[key] = run.destination
        // Once a target's runs have shown a load-balanced hop, or its flows do not repeat, all of
        // them are compared with its route: a run that happened to hear one branch only, or one
        // on a flow never seen before, is no path of its own.
        var event: PathChangeEvent?
        if run.multiFlow || routes[key] != nil {
            event = observeMultiFlow(run, key: key, catalog: &catalog)
        } else {
            event = observeFlow(run, key: key, catalog: catalog)
            if let perFlow = flows[key], perFlow.count > PathChangeDetector.repeatingFlows {
                routes[key] = route(ofFlows: perFlow, catalog: catalog, reached: run.reached, destination: run.destination)
                flows[key] = nil
            }
        }
        if destinationChanged { event?.flags.insert(.destinationChanged) }
        return event
    }

    private mutating func observeFlow(_ run: Observation, key: Key, catalog: Catalog) -> PathChangeEvent? {
        var current = flows[key, default: [:]]
        let previous = current[run.flow]
        current[run.flow] = FlowState(path: run.path, reached: run.reached)
        defer { flows[key] = current }
        guard let previous, previous.path != run.path,
              let newHops = catalog.path(of: run.path), let oldHops = catalog.path(of: previous.path) else { return nil }
        if newHops.isCompatible(with: oldHops) { return nil }
        for (otherFlow, other) in current where otherFlow != run.flow {
            if other.path == run.path { return nil }
            guard let otherHops = catalog.path(of: other.path) else { continue }
            // Another flow already shows this change. One route change is one event, however
            // many flows see it.
            if PathChangeDetector.corroborates(otherHops, new: newHops, old: oldHops) { return nil }
        }
        var flags: PathChangeEvent.Flags = []
        if previous.reached { flags.insert(.oldReached) }
        if run.reached { flags.insert(.newReached) }
        return PathChangeEvent(
            target: run.target, vantage: run.vantage, timeMicros: run.timeMicros, oldPath: previous.path, newPath: run.path,
            firstDifferingTTL: UInt8(clamping: newHops.firstDifference(from: oldHops) ?? 1),
            oldHopCount: UInt8(clamping: oldHops.hopCount), newHopCount: UInt8(clamping: newHops.hopCount), flags: flags)
    }

    /// The route that the flows' last paths make together: every address of each at each TTL.
    private func route(ofFlows perFlow: [UInt16: FlowState], catalog: Catalog, reached: Bool, destination: AddressID) -> LoadBalancedRoute {
        var sets = [[AddressID]]()
        for state in perFlow.values {
            guard let p = catalog.path(of: state.path) else { continue }
            sets = LoadBalancedRoute.union(sets, LoadBalancedRoute.sets(of: p))
        }
        return LoadBalancedRoute(sets: sets, runsOnRoute: UInt32(perFlow.count), reached: reached, destination: destination)
    }

    /// A change of a load-balanced route names the routes themselves, every branch at each TTL,
    /// as paths of the dictionary: the runs on either side saw only some of them.
    private mutating func observeMultiFlow(_ run: Observation, key: Key, catalog: inout Catalog) -> PathChangeEvent? {
        guard let hops = catalog.path(of: run.path) else { return nil }
        if routes[key] == nil, let perFlow = flows[key] {
            // The first run of many flows for a target traced flow by flow until now.
            routes[key] = route(ofFlows: perFlow, catalog: catalog, reached: run.reached, destination: run.destination)
            flows[key] = nil
        }
        guard var route = routes[key] else {
            routes[key] = LoadBalancedRoute(first: hops, reached: run.reached, destination: run.destination)
            return nil
        }
        // Answered probes at each TTL from 1, for branches gone unseen.
        var answered = [UInt32](repeating: 0, count: Int(run.probes.last?.ttl ?? 0))
        for p in run.probes where !p.address.isNone { answered[Int(p.ttl) - 1] += 1 }
        let outcome = route.observe(hops, reached: run.reached, destination: run.destination, timeMicros: run.timeMicros,
                                    answeredPerTTL: answered)
        routes[key] = route
        guard case let .changed(time, oldSets, newSets, oldReached, newReached, destinationChanged) = outcome else { return nil }
        var flags: PathChangeEvent.Flags = .loadBalanced
        if destinationChanged { flags.insert(.destinationChanged) }
        if oldReached { flags.insert(.oldReached) }
        if newReached { flags.insert(.newReached) }
        let first = LoadBalancedRoute.firstDifference(oldSets, newSets)
        let oldHops = PathHops(sets: oldSets), newHops = PathHops(sets: newSets)
        return PathChangeEvent(
            target: run.target, vantage: run.vantage, timeMicros: time,
            oldPath: catalog.intern(path: oldHops), newPath: catalog.intern(path: newHops),
            firstDifferingTTL: UInt8(clamping: first + 1),
            oldHopCount: UInt8(clamping: oldHops.hopCount), newHopCount: UInt8(clamping: newHops.hopCount), flags: flags)
    }

    /// Whether `other` shows the change from `old` to `new`: at some TTL where `new` answered and
    /// contradicts `old` (another address where `old` answered, or an answer past `old`'s end),
    /// `other` answered from `new`'s address. Flows on sibling ECMP branches see one route change
    /// as different full paths with the same new tail (where one branch may even pass the old
    /// route's address). A TTL where `other` did not answer shows nothing.
    static func corroborates(_ other: PathHops, new: PathHops, old: PathHops) -> Bool {
        for ttl in 1...max(new.hopCount, 1) {
            let n = new.address(atTTL: ttl), o = old.address(atTTL: ttl)
            guard !n.isNone, ttl > old.hopCount || (!o.isNone && o != n) else { continue }
            if other.address(atTTL: ttl) == n { return true }
        }
        return false
    }

    // MARK: - Persistence (stored in each segment's state section)

    /// Version 4: per key its destination, and per flow whether its last run reached it; then
    /// the load-balanced routes.
    func encode(into out: inout [UInt8]) {
        let keys = Set(flows.keys).union(destinations.keys).sorted { ($0.target, $0.vantage) < ($1.target, $1.vantage) }
        out.appendVarint(keys.count)
        for key in keys {
            out.appendVarint(key.target.rawValue)
            out.appendVarint(key.vantage.rawValue)
            out.appendVarint(destinations[key]?.rawValue ?? 0)
            let perFlow = flows[key] ?? [:]
            out.appendVarint(perFlow.count)
            for (flow, state) in perFlow.sorted(by: { $0.key < $1.key }) {
                out.appendVarint(UInt64(flow))
                out.appendVarint(state.path.rawValue)
                out.append(state.reached ? 1 : 0)
            }
        }
        out.appendVarint(routes.count)
        for (key, route) in routes.sorted(by: { ($0.key.target, $0.key.vantage) < ($1.key.target, $1.key.vantage) }) {
            out.appendVarint(key.target.rawValue)
            out.appendVarint(key.vantage.rawValue)
            route.encode(into: &out)
        }
    }

    /// The state as `version` wrote it: versions 1 to 3 hold only each flow's path.
    static func decode(_ c: inout ByteCursor, version: UInt16) throws(StorageError) -> PathChangeDetector {
        var d = PathChangeDetector()
        func id(_ c: inout ByteCursor) throws(StorageError) -> UInt32 { UInt32(try c.readVarintInt(max: Int(UInt32.max))) }
        let n = try c.readVarintInt()
        for _ in 0..<n {
            let key = Key(target: TargetID(rawValue: try id(&c)), vantage: VantageID(rawValue: try id(&c)))
            if version >= 4 {
                let destination = AddressID(rawValue: try id(&c))
                if !destination.isNone { d.destinations[key] = destination }
            }
            let m = try c.readVarintInt(max: 65536)
            var perFlow = [UInt16: FlowState]()
            for _ in 0..<m {
                let flow = UInt16(try c.readVarintInt(max: 65535))
                let path = PathID(rawValue: try id(&c))
                perFlow[flow] = FlowState(path: path, reached: version >= 4 ? try c.readByte() != 0 : false)
            }
            if !perFlow.isEmpty { d.flows[key] = perFlow }
        }
        if version >= 4 {
            for _ in 0..<(try c.readVarintInt()) {
                let key = Key(target: TargetID(rawValue: try id(&c)), vantage: VantageID(rawValue: try id(&c)))
                d.routes[key] = try LoadBalancedRoute.decode(&c, version: version)
            }
        }
        guard c.remaining == 0 else { throw c.corruption("\(c.remaining) bytes left over in the detector state") }
        return d
    }
}

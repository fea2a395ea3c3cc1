/// The route of a (target, vantage) as runs whose probes do not share one flow see it: classic
/// traceroute and mtr (a port or sequence number per probe), tcptraceroute (a source port per
/// run), an MDA trace. Each such run shows, at each TTL, one or more of the branches of a
/// load-balanced hop, so no run's path can be compared with the last one. Instead the route is
/// the set of addresses seen at each TTL, learnt over runs, and a change is raised only when
/// that set changes:
///
/// - a run that answers only from known addresses fits, whichever branches it happened to see;
/// - a run that answers from a new address beside a known one at the same TTL has found another
///   branch (silently while the route is new, as an event once it is learnt);
/// - a run that answers from new addresses only is a candidate; the candidate becomes the route,
///   with one event dated at its first run, once `confirmingRuns` runs in a row show it without
///   a known address where it differs. A known address there first refutes it: a branch not yet
///   seen while the route is new, a blip (one path between two runs of the old one) after that;
/// - a branch unseen in `removalProbes` answered probes at its TTL, while others there answered,
///   is gone, and that is a change too.
///
/// A tool that holds one flow per run (tcptraceroute) sees one branch of a two-way balancer per
/// run, and runs in a row on one branch are then only as likely as coin flips coming up the same:
/// a target that has shown one address at every TTL for `n` runs and then another for `k` runs
/// in a row is a balancer with chance 2^−(n+k−1). So a candidate replaces a route that has shown
/// no branch only once `n + k` reaches `learningRunsWithoutBranches` (`runsWithoutBranches` is
/// `n`, counted across the routes the target has had, since the last one with a branch).
///
/// A hop that did not answer agrees with nothing and contradicts nothing.
struct LoadBalancedRoute: Sendable, Equatable {
    /// Runs in a row that must show a candidate before it replaces the route. A tool that holds
    /// one flow per run sees one branch per run, so while the route is new (`learningRuns`) a
    /// branch could show alone several runs running; more runs are needed then.
    static let confirmingRuns = 3
    static let confirmingRunsWhileLearning = 8
    /// Runs on a route before its set of branches is taken as complete.
    static let learningRuns = 8
    /// The same for a route that has shown one address at every TTL so far. A tool holding one
    /// flow per run (tcptraceroute) hears one branch of a two-way balancer per run: eight runs
    /// on the same branch happen once in 128 targets, whose other branch would later count as a
    /// change; twenty-four, once in eight million. The price: a real change in the first 24 runs
    /// of a target that has shown no branch needs as many runs as make 24 with the runs before
    /// it, not `confirmingRuns` (its event is dated at its first run all the same).
    static let learningRunsWithoutBranches = 24
    /// Answered probes at a TTL that may miss one of its branches before it counts as gone: a
    /// branch that takes 1 flow in 10 is missed that often with chance 0.9⁶⁴ ≈ 0.1 %.
    static let removalProbes: UInt32 = 64

    /// The addresses seen at each TTL from 1, sorted; empty where none answered.
    var sets: [[AddressID]]
    /// Whether the last run that fitted the route reached the destination, and its address.
    var lastReached: Bool
    var lastDestination: AddressID
    var runsOnRoute: UInt32
    /// Runs in a row, on this route and the ones before it, while the target showed no branch:
    /// the evidence that a new address is a new route rather than a branch not yet seen.
    var runsWithoutBranches: UInt32
    /// Per branch of a TTL with several, answered probes at that TTL since it was last seen.
    var unseen: [PathBranch: UInt32]
    var candidate: Candidate?

    struct Candidate: Sendable, Equatable {
        var sets: [[AddressID]]
        var firstMicros: Int64
        var runs: Int
        var reached: Bool
        var destination: AddressID
    }

    /// What one run did to the route.
    enum Outcome: Equatable {
        case fitted
        /// The set of branches changed: when (the first run on the new route), the old and the
        /// new route, and whether the runs on either side reached the destination.
        case changed(timeMicros: Int64, oldSets: [[AddressID]], newSets: [[AddressID]], oldReached: Bool, newReached: Bool,
                     destinationChanged: Bool)
    }

    /// A route of `sets`, known for `runsOnRoute` runs, the last of which `reached` the
    /// `destination` (or did not).
    init(sets: [[AddressID]], runsOnRoute: UInt32 = 1, reached: Bool, destination: AddressID) {
        self.sets = sets
        self.runsOnRoute = runsOnRoute
        runsWithoutBranches = sets.contains { $0.count > 1 } ? 0 : runsOnRoute
        lastReached = reached
        lastDestination = destination
        unseen = [:]
        candidate = nil
    }

    /// The route a target's first run shows.
    init(first path: PathHops, reached: Bool, destination: AddressID) {
        self.init(sets: LoadBalancedRoute.sets(of: path), reached: reached, destination: destination)
    }

    var hasBranches: Bool { sets.contains { $0.count > 1 } }

    var isLearning: Bool {
        runsOnRoute < LoadBalancedRoute.learningRuns
            || (runsOnRoute < LoadBalancedRoute.learningRunsWithoutBranches && !hasBranches)
    }

    /// Every address at each TTL of `path`, sorted; as long as the path (the TTLs probed).
    static func sets(of path: PathHops) -> [[AddressID]] {
        (0..<path.hopCount).map { path.addresses(atTTL: $0 + 1).sorted() }
    }

    /// Takes one run's path (with its branches) and how many of its probes answered at each
    /// TTL; says whether the route's set of branches changed.
    mutating func observe(_ path: PathHops, reached: Bool, destination: AddressID, timeMicros: Int64,
                          answeredPerTTL: [UInt32]) -> Outcome {
        let seen = destinationAtItsTTL(LoadBalancedRoute.sets(of: path))
        var newAtTTL = [Int]()            // TTLs (0-based) with an address the route lacks
        var knownBeside = true            // every such TTL also showed a known address
        for (t, addresses) in seen.enumerated() where !addresses.isEmpty {
            let known = t < sets.count ? sets[t] : []
            guard addresses.contains(where: { !known.contains($0) }) else { continue }
            if known.isEmpty && t < sets.count {
                // A TTL the route probed and heard nothing at answered: no evidence of change.
                sets[t] = addresses
                continue
            }
            newAtTTL.append(t)
            if !addresses.contains(where: { known.contains($0) }) { knownBeside = false }
        }

        if newAtTTL.isEmpty {
            return fitted(seen, reached: reached, destination: destination, timeMicros: timeMicros, answeredPerTTL: answeredPerTTL)
        }
        if knownBeside {
            // Another branch, seen beside a known one in the same run.
            let old = sets, oldReached = lastReached, oldDestination = lastDestination, wasLearning = isLearning
            for t in newAtTTL { sets[t] = LoadBalancedRoute.union(sets[t], seen[t]) }
            let outcome = fitted(seen, reached: reached, destination: destination, timeMicros: timeMicros, answeredPerTTL: answeredPerTTL)
            if wasLearning { return outcome }
            return .changed(timeMicros: timeMicros, oldSets: old, newSets: sets, oldReached: oldReached, newReached: reached,
                            destinationChanged: oldDestination != destination)
        }
        // New addresses only: a candidate route, or more of the one pending.
        if var c = candidate, continues(c.sets, with: seen) {
            c.sets = LoadBalancedRoute.union(c.sets, seen)
            c.runs += 1
            c.reached = reached
            candidate = c
        } else {
            candidate = Candidate(sets: seen, firstMicros: timeMicros, runs: 1, reached: reached, destination: destination)
        }
        guard let c = candidate,
              c.runs >= (isLearning ? LoadBalancedRoute.confirmingRunsWhileLearning : LoadBalancedRoute.confirmingRuns),
              hasBranches || Int(runsWithoutBranches) + c.runs >= LoadBalancedRoute.learningRunsWithoutBranches else {
            return .fitted
        }
        let outcome = Outcome.changed(timeMicros: c.firstMicros, oldSets: sets, newSets: c.sets,
                                      oldReached: lastReached, newReached: c.reached,
                                      destinationChanged: c.destination != lastDestination)
        sets = c.sets
        lastReached = reached
        lastDestination = destination
        runsOnRoute = UInt32(c.runs)
        runsWithoutBranches = hasBranches ? 0 : runsWithoutBranches &+ UInt32(c.runs)
        unseen = [:]
        candidate = nil
        return outcome
    }

    /// A run that answered only from known addresses.
    private mutating func fitted(_ seen: [[AddressID]], reached: Bool, destination: AddressID, timeMicros: Int64,
                                 answeredPerTTL: [UInt32]) -> Outcome {
        let previousReached = lastReached, previousDestination = lastDestination
        if let c = candidate, refutes(c.sets, answeredIn: seen) {
            // Known addresses where the candidate differs refute it: a branch not seen before
            // while the route is new, a blip after that.
            if isLearning {
                for t in c.sets.indices where t < sets.count && !c.sets[t].isEmpty && !sets[t].isEmpty {
                    sets[t] = LoadBalancedRoute.union(sets[t], c.sets[t])
                }
            }
            candidate = nil
        }
        lastReached = reached
        lastDestination = destination
        runsOnRoute &+= 1
        runsWithoutBranches = hasBranches ? 0 : runsWithoutBranches &+ 1
        // Branches of load-balanced TTLs that this run's answers there missed.
        var removed = false
        let before = sets
        for t in sets.indices where sets[t].count > 1 && t < seen.count && !seen[t].isEmpty {
            let answered = t < answeredPerTTL.count ? answeredPerTTL[t] : 0
            for a in sets[t] {
                let key = PathBranch(ttl: UInt8(t + 1), address: a)
                if seen[t].contains(a) {
                    unseen[key] = nil
                    continue
                }
                let n = (unseen[key] ?? 0) &+ answered
                unseen[key] = n
                if n >= LoadBalancedRoute.removalProbes && !isLearning {
                    sets[t].removeAll { $0 == a }
                    unseen[key] = nil
                    removed = true
                }
            }
        }
        guard removed else { return .fitted }
        return .changed(timeMicros: timeMicros, oldSets: before, newSets: sets, oldReached: previousReached, newReached: reached,
                        destinationChanged: previousDestination != destination)
    }

    /// Whether a run that fitted the route refutes the candidate: it answered (from a known
    /// address, as it fitted) at some TTL where the candidate has an address the route lacks, so
    /// the old route is still there.
    private func refutes(_ candidate: [[AddressID]], answeredIn seen: [[AddressID]]) -> Bool {
        candidate.indices.contains { t in
            t < seen.count && !seen[t].isEmpty && candidate[t].contains { !(t < sets.count && sets[t].contains($0)) }
        }
    }

    /// A run's sets with the destination brought back to its TTL on the route: when a run's
    /// probes at the destination's TTL were all lost, the tracer went on, and the destination
    /// answered one or more TTLs later. That silence is no longer a route.
    private func destinationAtItsTTL(_ seen: [[AddressID]]) -> [[AddressID]] {
        guard let routeEnd = sets.lastIndex(where: { !$0.isEmpty }),
              let runEnd = seen.lastIndex(where: { !$0.isEmpty }), runEnd > routeEnd,
              seen[runEnd].allSatisfy(sets[routeEnd].contains),
              seen[routeEnd..<runEnd].allSatisfy(\.isEmpty) else { return seen }
        var moved = seen
        moved[routeEnd] = seen[runEnd]
        moved[runEnd] = []
        return moved
    }

    /// Whether a run with only new addresses shows the pending candidate again: it shares one
    /// of the candidate's new addresses at the same TTL.
    private func continues(_ candidate: [[AddressID]], with seen: [[AddressID]]) -> Bool {
        candidate.indices.contains { t in
            t < seen.count && seen[t].contains { a in candidate[t].contains(a) && !(t < sets.count && sets[t].contains(a)) }
        }
    }

    /// The first TTL (0-based) where two routes differ: both heard addresses there and not the
    /// same, or one heard some past the other's end. A TTL where one heard nothing within its
    /// length is silence (a candidate's runs may all have missed a hop), not a difference; when
    /// silence is all there is, the first unequal TTL.
    static func firstDifference(_ old: [[AddressID]], _ new: [[AddressID]]) -> Int {
        let ttls = 0..<max(old.count, new.count)
        return ttls.first { t in
            switch (t < old.count ? old[t] : nil, t < new.count ? new[t] : nil) {
            case let (o?, n?): !o.isEmpty && !n.isEmpty && o != n
            case let (o?, nil): !o.isEmpty
            case let (nil, n?): !n.isEmpty
            case (nil, nil): false
            }
        } ?? ttls.first { t in (t < old.count ? old[t] : []) != (t < new.count ? new[t] : []) } ?? 0
    }

    /// Two routes' addresses together, TTL by TTL.
    static func union(_ a: [[AddressID]], _ b: [[AddressID]]) -> [[AddressID]] {
        (0..<max(a.count, b.count)).map { t in union(t < a.count ? a[t] : [], t < b.count ? b[t] : []) }
    }

    /// The addresses of one TTL of both, sorted, each once.
    static func union(_ a: [AddressID], _ b: [AddressID]) -> [AddressID] {
        Array(Set(a + b)).sorted()
    }

    // MARK: - Persistence (the detector state block, versions 4 to 6)

    func encode(into out: inout [UInt8]) {
        LoadBalancedRoute.encodeSets(sets, into: &out)
        out.append(lastReached ? 1 : 0)
        out.appendVarint(lastDestination.rawValue)
        out.appendVarint(UInt64(runsOnRoute))
        out.appendVarint(UInt64(runsWithoutBranches))
        out.appendVarint(unseen.count)
        for (b, n) in unseen.sorted(by: { $0.key < $1.key }) {
            out.append(b.ttl)
            out.appendVarint(b.address.rawValue)
            out.appendVarint(UInt64(n))
        }
        if let c = candidate {
            out.append(1)
            LoadBalancedRoute.encodeSets(c.sets, into: &out)
            out.appendZigzag(c.firstMicros)
            out.appendVarint(c.runs)
            out.append(c.reached ? 1 : 0)
            out.appendVarint(c.destination.rawValue)
        } else {
            out.append(0)
        }
    }

    /// A route as segment `version` wrote it; before version 6 a route kept no count of runs
    /// without branches, and the runs on the route stand for it.
    static func decode(_ c: inout ByteCursor, version: UInt16) throws(StorageError) -> LoadBalancedRoute {
        let sets = try decodeSets(&c)
        let reached = try c.readByte() != 0
        let destination = AddressID(rawValue: try readID(&c))
        var route = LoadBalancedRoute(sets: sets, runsOnRoute: UInt32(try c.readVarintInt(max: Int(UInt32.max))),
                                      reached: reached, destination: destination)
        if version >= SegmentFormat.branchEvidenceVersion {
            route.runsWithoutBranches = UInt32(try c.readVarintInt(max: Int(UInt32.max)))
        }
        for _ in 0..<(try c.readVarintInt(max: 255 * 1024)) {
            let b = PathBranch(ttl: try c.readByte(), address: AddressID(rawValue: try readID(&c)))
            route.unseen[b] = UInt32(try c.readVarintInt(max: Int(UInt32.max)))
        }
        switch try c.readByte() {
        case 0: break
        case 1:
            let cs = try decodeSets(&c)
            route.candidate = Candidate(sets: cs, firstMicros: try c.readZigzag(),
                                        runs: try c.readVarintInt(max: 1 << 20), reached: try c.readByte() != 0,
                                        destination: AddressID(rawValue: try readID(&c)))
        case let v: throw c.corruption("candidate marker \(v), expected 0 or 1")
        }
        return route
    }

    private static func readID(_ c: inout ByteCursor) throws(StorageError) -> UInt32 {
        UInt32(try c.readVarintInt(max: Int(UInt32.max)))
    }

    private static func encodeSets(_ sets: [[AddressID]], into out: inout [UInt8]) {
        out.appendVarint(sets.count)
        for s in sets {
            out.appendVarint(s.count)
            for a in s { out.appendVarint(a.rawValue) }
        }
    }

    private static func decodeSets(_ c: inout ByteCursor) throws(StorageError) -> [[AddressID]] {
        let n = try c.readVarintInt(max: 255)
        var sets = [[AddressID]]()
        sets.reserveCapacity(n)
        for _ in 0..<n {
            let m = try c.readVarintInt(max: 1024)
            var s = [AddressID]()
            for _ in 0..<m { s.append(AddressID(rawValue: try readID(&c))) }
            sets.append(s)
        }
        return sets
    }
}

/// Tells the runs of a batch the store already holds from new ones, so that every run is kept
/// once however often it is written: an import run again, a POST retried after its answer was
/// lost.
///
/// A run's identity is its target, vantage point, method, flow and start time (FORMAT.md, "Run
/// identity"). Checking every run against the store would cost a read per run; instead the index
/// keeps each target's latest start, and a run that starts after it (every run a monitor
/// traces) is new without a look. Only runs at or before it, which an import of older data or a
/// retry brings, are compared with what the store holds in their time range.
struct RunIdentityIndex {
    /// The latest start of any run of each target the store holds, by `TargetID.rawValue`;
    /// `Int64.min` for none.
    private var latestStart: [Int64] = []

    /// One run's identity, by name so that runs of targets the catalog does not know yet compare
    /// too.
    struct Identity: Hashable {
        var target: String
        var vantage: String
        var method: TraceMethod
        var flow: UInt16
        var startMicros: Int64

        init(_ run: TraceRun) {
            target = run.target
            vantage = run.vantage
            method = run.method
            flow = run.flowID
            startMicros = run.startMicros
        }

        init?(_ run: RunRecord, catalog: Catalog) {
            guard let t = catalog.name(of: run.target), let v = catalog.name(of: run.vantage) else { return nil }
            target = t
            vantage = v
            method = run.method
            flow = run.flowID
            startMicros = run.startMicros
        }
    }

    /// Notes the runs of a table as held.
    mutating func note(_ table: RunTable) {
        for run in table.runs { note(run.target, startMicros: run.startMicros) }
    }

    /// Notes the runs a segment holds, from its index.
    mutating func note(_ segment: Segment) {
        for entry in segment.index.entries { note(entry.target, startMicros: entry.maxStartMicros) }
    }

    private mutating func note(_ target: TargetID, startMicros: Int64) {
        let slot = Int(target.rawValue)
        if slot >= latestStart.count {
            latestStart += repeatElement(Int64.min, count: slot + 1 - latestStart.count)
        }
        latestStart[slot] = max(latestStart[slot], startMicros)
    }

    private func latest(_ target: TargetID) -> Int64 {
        let slot = Int(target.rawValue)
        return slot < latestStart.count ? latestStart[slot] : Int64.min
    }

    /// The indices, ascending, of the runs of `runs` that the store holds already or that repeat
    /// an earlier run of the batch.
    /// - Parameter snapshot: the store as it is (taken only when some run needs comparing).
    /// - Returns: also the problems met reading the store (a damaged segment); its runs cannot
    ///   be compared, so a run it held is taken as new.
    func duplicates(in runs: [TraceRun], catalog: Catalog, snapshot: () -> StoreSnapshot) -> (indices: [Int], problems: [StorageError]) {
        // The targets with a run that does not start after every run seen before it.
        var latestInBatch = [String: Int64]()
        var compared = Set<String>()
        for run in runs {
            let held = catalog.targetID(named: run.target).map(latest) ?? Int64.min
            let seen = latestInBatch[run.target] ?? Int64.min
            if run.startMicros > max(held, seen) {
                latestInBatch[run.target] = run.startMicros
            } else {
                compared.insert(run.target)
            }
        }
        guard !compared.isEmpty else { return ([], []) }

        // What the store holds of those targets, over the batch's time range of each.
        var ranges = [TargetID: Range<Int64>]()
        for run in runs where compared.contains(run.target) {
            guard let id = catalog.targetID(named: run.target) else { continue }
            let start = run.startMicros
            if let r = ranges[id] {
                ranges[id] = min(r.lowerBound, start)..<max(r.upperBound, start &+ 1)
            } else {
                ranges[id] = start..<(start == Int64.max ? start : start + 1)
            }
        }
        var heldIdentities = Set<Identity>()
        var problems = [StorageError]()
        if !ranges.isEmpty {
            let snap = snapshot()
            let (tables, found) = snap.runs(of: ranges.map { (target: $0.key, range: $0.value) }, fields: .timing)
            problems = found
            for table in tables.values {
                for run in table.runs {
                    if let identity = Identity(run, catalog: snap.catalog) { heldIdentities.insert(identity) }
                }
            }
        }
        var inBatch = Set<Identity>()
        var indices = [Int]()
        for (i, run) in runs.enumerated() where compared.contains(run.target) {
            let identity = Identity(run)
            if heldIdentities.contains(identity) || !inBatch.insert(identity).inserted { indices.append(i) }
        }
        return (indices, problems)
    }
}

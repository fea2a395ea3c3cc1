import PathTSDB

/// Streams a `probes` plan: one row per probe sent, target by target and window by window, so
/// that an export of months holds one target-day of runs at a time.
struct ProbeStream {
    private let plan: QueryPlan
    private let snapshot: StoreSnapshot
    private var hops: HopMatcher
    private var targetIndex = 0
    private var windows: [Range<Int64>] = []
    private var windowIndex = 0
    private var table = RunTable()
    private var runIndex = 0
    private var hopAddress = [AddressID](repeating: .none, count: 256)
    /// Address text by id, filled as addresses are met.
    private var addressText: [String?]
    private(set) var problems: [StorageError] = []

    init(plan: QueryPlan, snapshot: StoreSnapshot) {
        self.plan = plan
        self.snapshot = snapshot
        hops = HopMatcher(plan.query.hops, catalog: snapshot.catalog, groupsByAddress: false)
        addressText = [String?](repeating: nil, count: snapshot.catalog.addresses.count + 1)
        windows = QueryWindows.split(plan.range, held: snapshot.timeRange)
    }

    /// Appends the rows of the next runs, about `rows` of them; false when nothing is left.
    mutating func next(into out: inout [[ResultValue]], rows: Int, context: QueryContext) throws(QueryError) -> Bool {
        while out.count < rows {
            if runIndex < table.runs.count {
                emit(run: table.runs[runIndex], into: &out)
                runIndex += 1
                continue
            }
            guard targetIndex < plan.targets.count else { return !out.isEmpty }
            if windowIndex >= windows.count {
                targetIndex += 1
                windowIndex = 0
                continue
            }
            try context.checkDeadline()
            let (t, p) = snapshot.runs(of: plan.targets[targetIndex].id, in: windows[windowIndex])
            problems += p
            table = t
            runIndex = 0
            windowIndex += 1
        }
        return true
    }

    private mutating func emit(run: RunRecord, into out: inout [[ResultValue]]) {
        let name = ResultValue.text(plan.targets[targetIndex].name)
        let start = ResultValue.time(run.startMicros)
        let probes = table.probes[run.probeRange]
        if hops.needsHopAddresses { HopMatcher.hopAddresses(probes, into: &hopAddress) }
        var lastTTL: UInt8 = 0
        var index = 0
        for p in probes {
            index = p.ttl == lastTTL ? index + 1 : 1
            lastTTL = p.ttl
            guard hops.keeps(ttl: p.ttl, hop: hops.needsHopAddresses ? hopAddress[Int(p.ttl)] : .none) else { continue }
            out.append([name, start, .integer(Int64(p.ttl)), .integer(Int64(index)),
                        p.isLoss ? .null : .text(text(of: p.address)),
                        p.isLoss ? .null : .integer(Int64(p.rttMicros))])
        }
    }

    private mutating func text(of id: AddressID) -> String {
        let i = Int(id.rawValue)
        if i < addressText.count, let s = addressText[i] { return s }
        let s = snapshot.catalog.address(of: id)?.description ?? "?"
        if i < addressText.count { addressText[i] = s }
        return s
    }
}

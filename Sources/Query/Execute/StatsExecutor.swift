import PathTSDB

/// Computes a stats plan: one pass over the chosen source, target by target, accumulating per
/// group; groups of one target are finished before the next target is read when grouping by
/// target, so memory holds one target's groups at a time.
struct StatsExecutor {
    let plan: QueryPlan
    let snapshot: StoreSnapshot
    let context: QueryContext

    private struct Key: Hashable {
        var target: Int32
        var ttl: UInt8
        var address: UInt32
        var bucket: Int64
    }

    /// Every row of the answer, all columns, unfiltered and unordered (the cursor does that).
    func rows(problems: inout [StorageError]) throws(QueryError) -> [[ResultValue]] {
        var out = [[ResultValue]]()
        let byTarget = plan.keys.contains(.target)
        let endToEnd = plan.isEndToEnd
        if let tier = plan.rollupTier {
            var groups = [Key: RollupRow]()
            // TTL 0 rows: the runs' destination probes, for a target's end-to-end loss.
            var ends = [Key: RollupRow]()
            var hops = HopMatcher(plan.query.hops, catalog: snapshot.catalog, groupsByAddress: false)
            for (ti, t) in plan.targets.enumerated() {
                try context.checkDeadline()
                let (rows, p) = snapshot.rollups(of: t.id, tier: tier, in: plan.range, endToEnd: endToEnd)
                problems += p
                for r in rows {
                    if r.ttl == 0 {  // asked for only when endToEnd
                        let k = key(target: ti, ttl: 0, address: .none, time: r.bucketMicros)
                        if ends[k] != nil { ends[k]?.merge(r) } else { ends[k] = r }
                        continue
                    }
                    guard hops.keeps(ttl: r.ttl, hop: .none) else { continue }
                    let k = key(target: ti, ttl: r.ttl, address: .none, time: r.bucketMicros)
                    if groups[k] != nil { groups[k]?.merge(r) } else { groups[k] = r }
                }
                if byTarget || ti == plan.targets.count - 1 {
                    var figures = [Key: GroupFigures]()
                    for (k, r) in groups {
                        figures[k] = GroupFigures(cells: r.cells(plan.aggregates), sent: UInt64(r.sent), lost: UInt64(r.lost),
                                                  endSent: UInt64(ends[k]?.sent ?? 0), endLost: UInt64(ends[k]?.lost ?? 0))
                    }
                    emit(figures, into: &out)
                    groups.removeAll(keepingCapacity: true)
                    ends.removeAll(keepingCapacity: true)
                }
            }
            return out
        }
        let keepValues = plan.aggregates.contains { if case .quantile = $0 { true } else { false } }
        let jitter = plan.aggregates.contains(.jitter)
        let byAddress = plan.keys.contains(.address)
        let byTTL = plan.keys.contains(.ttl)
        var hops = HopMatcher(plan.query.hops, catalog: snapshot.catalog, groupsByAddress: byAddress)
        let selectsAll = hops.selectsAll
        var groups = [Key: RawAccumulator]()
        var hopAddress = [AddressID](repeating: .none, count: 256)
        // Without addresses in the key, a run's probes fall into at most 256 groups of the
        // current time bucket: accumulate them in a flat array indexed by TTL, and move them to
        // `groups` when the bucket changes (runs come in time order), instead of hashing a key
        // per probe.
        var slots = [RawAccumulator](repeating: RawAccumulator(), count: byAddress ? 0 : 256)
        var used = [Int]()
        var bucket: Int64 = 0
        // A slot's group is complete when its bucket ends if no other target and no later
        // bucket (buckets only grow within a target) can add to it: its cells are then
        // computed at once and the slot reused, values' room and all.
        let slotsComplete = (byTarget || plan.targets.count == 1) && (plan.stepMicros == nil || plan.keys.contains(.time))
        var finished = [Key: GroupFigures]()
        func figures(_ a: inout RawAccumulator) -> GroupFigures {
            GroupFigures(cells: a.cells(plan.aggregates), sent: a.sent, lost: a.lost, endSent: a.endSent, endLost: a.endLost)
        }
        func moveSlots(target ti: Int) {
            for s in used {
                let k = key(target: ti, ttl: UInt8(s), address: .none, time: bucket)
                if slotsComplete {
                    finished[k] = figures(&slots[s])
                } else if groups[k] == nil {
                    groups[k] = slots[s]
                } else {
                    groups[k]?.merge(slots[s])
                }
                slots[s].reset()
            }
            used.removeAll(keepingCapacity: true)
        }
        // The snapshot's time range walks every segment and head run: once, not per target.
        let windows = QueryWindows.split(plan.range, held: snapshot.timeRange)
        for (ti, t) in plan.targets.enumerated() {
            // A target's runs come in time order, window by window.
            var ends = EndToEnd()
            for window in windows {
                try context.checkDeadline()
                let (tables, p) = snapshot.runTables(of: t.id, in: window, fields: .timing)
                problems += p
                for table in tables {
                    for run in table.runs where plan.reads(run.path, of: t.id) {
                        let probes = table.probes[run.probeRange]
                        if hops.needsHopAddresses { HopMatcher.hopAddresses(probes, into: &hopAddress) }
                        if byAddress {
                            for pr in probes {
                                let hop = hopAddress[Int(pr.ttl)]
                                guard hops.keeps(ttl: pr.ttl, hop: hop) else { continue }
                                let k = key(target: ti, ttl: pr.ttl, address: pr.isLoss ? hop : pr.address, time: run.startMicros)
                                groups[k, default: RawAccumulator()].add(pr, target: Int32(ti), keepValues: keepValues, jitter: jitter)
                            }
                            continue
                        }
                        let b = plan.stepMicros.map { QueryPlanner.floor(run.startMicros, $0) } ?? 0
                        if b != bucket {
                            moveSlots(target: ti)
                            bucket = b
                        }
                        slots.withUnsafeMutableBufferPointer { slots in
                            for pr in probes {
                                guard selectsAll || hops.keeps(ttl: pr.ttl, hop: hops.needsHopAddresses ? hopAddress[Int(pr.ttl)] : .none) else { continue }
                                let s = byTTL ? Int(pr.ttl) : 0
                                if slots[s].sent == 0 { used.append(s) }
                                slots[s].add(pr, target: Int32(ti), keepValues: keepValues, jitter: jitter)
                            }
                            if endToEnd && !probes.isEmpty {
                                ends.forEachProbe(destination: run.destination, probes: probes, interrupted: run.interrupted) { reached, _ in
                                    slots[0].endSent += 1
                                    if !reached { slots[0].endLost += 1 }
                                }
                            }
                        }
                    }
                }
            }
            moveSlots(target: ti)
            if byTarget || ti == plan.targets.count - 1 {
                for (k, var acc) in groups { finished[k] = figures(&acc) }
                emit(finished, into: &out)
                groups.removeAll(keepingCapacity: true)
                finished.removeAll(keepingCapacity: true)
            }
        }
        return out
    }

    private func key(target: Int, ttl: UInt8, address: AddressID, time: Int64) -> Key {
        var k = Key(target: -1, ttl: 0, address: 0, bucket: 0)
        for key in plan.keys {
            switch key {
            case .target: k.target = Int32(target)
            case .ttl: k.ttl = ttl
            case .address: k.address = address.rawValue
            case .time:
                if let step = plan.stepMicros { k.bucket = QueryPlanner.floor(time, step) }
            }
        }
        return k
    }

    /// Appends one row per group, ordered by the keys in the order they were asked for, its
    /// loss figures finished across the groups first.
    private func emit(_ figures: [Key: GroupFigures], into out: inout [[ResultValue]]) {
        var figures = figures
        LossFigures(plan: plan).finish(&figures, partition: { Key(target: $0.target, ttl: 0, address: 0, bucket: $0.bucket) }, ttl: \.ttl)
        let groups = figures.mapValues(\.cells)
        let catalog = snapshot.catalog
        var addressCache = [UInt32: IPAddress?]()
        func address(_ id: UInt32) -> IPAddress? {
            if let a = addressCache[id] { return a }
            let a = id == 0 ? nil : catalog.address(of: AddressID(rawValue: id))
            addressCache[id] = a
            return a
        }
        let sorted = groups.keys.sorted { a, b in
            for key in plan.keys {
                switch key {
                case .target where a.target != b.target: return a.target < b.target
                case .ttl where a.ttl != b.ttl: return a.ttl < b.ttl
                case .time where a.bucket != b.bucket: return a.bucket < b.bucket
                case .address where a.address != b.address:
                    // Unresponsive (no address) last.
                    guard let x = address(a.address) else { return false }
                    guard let y = address(b.address) else { return true }
                    return x < y
                default: continue
                }
            }
            return false
        }
        for k in sorted {
            var row = [ResultValue]()
            row.reserveCapacity(plan.allColumns.count)
            for key in plan.keys {
                switch key {
                case .target: row.append(.text(plan.targets[Int(k.target)].name))
                case .ttl: row.append(.integer(Int64(k.ttl)))
                case .address: row.append(address(k.address).map { .text($0.description) } ?? .null)
                case .time: row.append(.time(k.bucket))
                }
            }
            row += groups[k] ?? []
            out.append(row)
        }
    }
}

/// Splits a long range into day-sized windows over the data actually held, so that a scan holds
/// one day of a target's runs at a time.
enum QueryWindows {
    static let day: Int64 = 86_400_000_000

    static func split(_ range: Range<Int64>, held: ClosedRange<Int64>?) -> [Range<Int64>] {
        guard let held else { return [] }
        let lo = max(range.lowerBound, held.lowerBound)
        let hi = min(range.upperBound, held.upperBound == Int64.max ? held.upperBound : held.upperBound + 1)
        guard lo < hi else { return [] }
        if hi - lo <= 7 * day { return [lo..<hi] }
        var out = [Range<Int64>]()
        var s = lo
        while s < hi {
            let e = min(hi, QueryPlanner.floor(s, day) + day)
            out.append(s..<e)
            s = e
        }
        return out
    }
}

import Dispatch

/// A consistent view of the store at one instant: the catalog, the segments and the head blocks
/// as they were when it was taken. Later writes, compactions and retention do not change it, and
/// the files it refers to stay readable for as long as it is held.
public struct StoreSnapshot: Sendable {
    /// The dictionary of names, addresses and paths that the snapshot's ids refer to.
    public let catalog: Catalog
    package let segments: [Segment]
    /// Rollup-only files left by retention.
    package let rollupFiles: [Segment]
    package let head: [HeadBlock]
    /// Scheduled runs that did not start, oldest first as recorded.
    package let missedSlots: [MissedSlot]
    /// Called when a segment turns out to be damaged while reading, so the store can quarantine it.
    let reportDamage: @Sendable (Segment, StorageError) -> Void

    /// The runs of `target` that started in `range`, oldest first, with the probe fields
    /// `fields` names. A damaged segment is reported (and quarantined by the store) and its runs
    /// left out; the problems are returned too.
    public func runs(of target: TargetID, in range: Range<Int64>, fields: ProbeFields = .all) -> (table: RunTable, problems: [StorageError]) {
        let (tables, problems) = runTables(of: target, in: range, fields: fields)
        if tables.count == 1 { return (tables[0], problems) }
        // The tables follow each other in time: concatenated, they are in order.
        return (RunTable(concatenating: tables), problems)
    }

    /// What `runs(of:in:fields:)` answers, as tables that follow each other in time (each oldest
    /// first, none starting before the one before it ends), so that a reader going through them
    /// in turn meets every run in order. Each segment chunk's decoded table is handed on as it
    /// is when it lies in the range, instead of being copied into one table with the others;
    /// only sources that overlap in time are merged.
    public func runTables(of target: TargetID, in range: Range<Int64>, fields: ProbeFields = .all) -> (tables: [RunTable], problems: [StorageError]) {
        var t = RunTable()
        for block in head {
            for run in block.table.runs where run.target == target {
                t.append(run, from: block.table)
            }
        }
        return runTables(of: target, in: range, fields: fields, headRuns: t)
    }

    /// The runs of many targets, each in its own range, as `runs(of:in:fields:)` answers for
    /// each: the head is gone through once for all of them rather than once a target, which is
    /// what makes judging every target after a round of runs linear in the targets.
    public func runs(of requests: [(target: TargetID, range: Range<Int64>)], fields: ProbeFields = .all)
        -> (tables: [TargetID: RunTable], problems: [StorageError]) {
        var wanted = [TargetID: Range<Int64>]()
        for r in requests { wanted[r.target] = r.range }
        var headRuns = [TargetID: RunTable]()
        for block in head {
            for run in block.table.runs {
                guard let range = wanted[run.target], range.contains(run.startMicros) else { continue }
                headRuns[run.target, default: RunTable()].append(run, from: block.table)
            }
        }
        var tables = [TargetID: RunTable]()
        var problems = [StorageError]()
        // The segments that overlap any request, found once: a round of many targets asks
        // for their newest runs, which a day of segments mostly does not hold.
        let lowest = wanted.values.map(\.lowerBound).min() ?? .max, highest = wanted.values.map(\.upperBound).max() ?? .min
        let overlapping = segments.filter { $0.maxStartMicros >= lowest && $0.minStartMicros < highest }
        for (target, range) in wanted {
            let (parts, p) = runTables(of: target, in: range, fields: fields, headRuns: headRuns[target] ?? RunTable(), among: overlapping)
            problems += p
            tables[target] = parts.count == 1 ? parts[0] : RunTable(concatenating: parts)
        }
        return (tables, problems)
    }

    private func runTables(of target: TargetID, in range: Range<Int64>, fields: ProbeFields, headRuns: RunTable,
                           among candidates: [Segment]? = nil) -> (tables: [RunTable], problems: [StorageError]) {
        var problems = [StorageError]()
        var sources = [RunTable]()
        let held = (candidates ?? segments).filter { seg in
            guard let e = seg.entry(for: target) else { return false }
            return e.maxStartMicros >= range.lowerBound && e.minStartMicros < range.upperBound
        }
        for (seg, result) in zip(held, decodeChunks(of: target, in: held, fields: fields)) {
            switch result {
            case .success(let table): sources.append(table)
            case .failure(let error):
                problems.append(error)
                reportDamage(seg, error)
            }
        }
        if !headRuns.isEmpty { sources.append(headRuns) }
        for i in sources.indices { sources[i].sortByStart() }
        sources.removeAll { $0.isEmpty }
        // Segments come in time order and rarely overlap.
        let consecutive = zip(sources, sources.dropFirst()).allSatisfy { a, b in
            (a.runs.last?.startMicros ?? .min) <= (b.runs.first?.startMicros ?? .max)
        }
        if consecutive {
            var tables = [RunTable]()
            for t in sources {
                // A target-day of a compacted store usually lies wholly in the range.
                if let first = t.runs.first, let last = t.runs.last, range.contains(first.startMicros), range.contains(last.startMicros) {
                    tables.append(t)
                    continue
                }
                let part = RunTable(concatenating: [t]) { range.contains($0.startMicros) }
                if !part.isEmpty { tables.append(part) }
            }
            return (tables, problems)
        }
        var out = RunTable(concatenating: sources) { range.contains($0.startMicros) }
        out.sortByStart()
        return (out.isEmpty ? [] : [out], problems)
    }

    /// The chunks of `target` in `held`, decoded side by side on the machine's cores when
    /// there are several (a day of a live store is twelve 2-hour segments): a query's latency
    /// is then that of the slowest chunk, not of all of them in turn.
    private func decodeChunks(of target: TargetID, in held: [Segment], fields: ProbeFields) -> [Result<RunTable, StorageError>] {
        let catalog = self.catalog
        @Sendable func decode(_ seg: Segment) -> Result<RunTable, StorageError> {
            do throws(StorageError) { return .success(try seg.runs(of: target, catalog: catalog, fields: fields)) } catch { return .failure(error) }
        }
        guard held.count > 1 else { return held.map(decode) }
        let results = ChunkResults(count: held.count)
        DispatchQueue.concurrentPerform(iterations: held.count) { i in results.set(i, decode(held[i])) }
        return results.values
    }

    init(catalog: Catalog, segments: [Segment], rollupFiles: [Segment], head: [HeadBlock], missedSlots: [MissedSlot] = [],
         reportDamage: @escaping @Sendable (Segment, StorageError) -> Void) {
        self.catalog = catalog
        self.segments = segments
        self.rollupFiles = rollupFiles
        self.head = head
        self.missedSlots = missedSlots
        self.reportDamage = reportDamage
    }

    /// Slots due in `range`, oldest first.
    public func missed(in range: Range<Int64>) -> [MissedSlot] {
        missedSlots.filter { range.contains($0.slotMicros) }.sorted { ($0.slotMicros, $0.target) < ($1.slotMicros, $1.target) }
    }

    /// Path-change events in `range`, optionally of one target, oldest first.
    public func events(in range: Range<Int64>, target: TargetID? = nil) -> (events: [PathChangeEvent], problems: [StorageError]) {
        var out = [PathChangeEvent]()
        var problems = [StorageError]()
        // Not pruned by the segments' run times: an event is dated at the first run of its new
        // path, which for a load-balanced route (confirmed runs later) may lie in an earlier
        // segment than the event. Events blocks are small.
        for seg in segments where seg.index.eventCount > 0 {
            do {
                out += try seg.events().filter { range.contains($0.timeMicros) && (target == nil || $0.target == target) }
            } catch {
                problems.append(error)
                reportDamage(seg, error)
            }
        }
        for block in head {
            out += block.events.filter { range.contains($0.timeMicros) && (target == nil || $0.target == target) }
        }
        out.sort { ($0.timeMicros, $0.target) < ($1.timeMicros, $1.target) }
        return (out, problems)
    }

    /// Whether every segment and rollup file holds the end-to-end rollup rows (TTL 0): all were
    /// written at segment version 4 or later. The head computes them as it goes.
    package var holdsEndToEndRollups: Bool {
        (segments + rollupFiles).allSatisfy { $0.version >= SegmentFormat.endToEndRollupVersion }
    }

    /// Rollup rows of `target` at `tier` for buckets starting in `range`, merged across every
    /// source (segments, rollup files, and the head computed on the fly): one per hop and bucket,
    /// and with `endToEnd` also the end-to-end rows (TTL 0, `EndToEnd`), which do not count
    /// other probes than the hop rows do.
    package func rollups(of target: TargetID, tier: RollupTier, in range: Range<Int64>,
                        endToEnd: Bool = false) -> (rows: [RollupRow], problems: [StorageError]) {
        var merged = [UInt16: [Int64: RollupRow]]()
        var problems = [StorageError]()
        func add(_ rows: [RollupRow]) {
            for r in rows where r.tier == tier && range.contains(r.bucketMicros) && (endToEnd || r.ttl != 0) {
                if merged[UInt16(r.ttl)]?[r.bucketMicros] != nil {
                    merged[UInt16(r.ttl)]?[r.bucketMicros]?.merge(r)
                } else {
                    merged[UInt16(r.ttl), default: [:]][r.bucketMicros] = r
                }
            }
        }
        // A segment whose runs start before the range can hold part of its first bucket.
        let (widenedLower, overflow) = range.lowerBound.subtractingReportingOverflow(tier.micros)
        let widened = (overflow ? Int64.min : widenedLower)..<range.upperBound
        for seg in segments + rollupFiles {
            guard let e = seg.entry(for: target), e.maxStartMicros >= widened.lowerBound, e.minStartMicros < widened.upperBound else { continue }
            if seg.level != SegmentFormat.rollupOnlyLevel && !RollupTier.storedWithSegments.contains(tier) {
                // This tier is not stored with segments: compute it from the raw runs.
                do {
                    let t = try seg.runs(of: target, catalog: catalog)
                    add(RollupBuilder.rows(target: target, runs: t.runs, probes: t.probes, tiers: [tier]))
                } catch {
                    problems.append(error)
                    reportDamage(seg, error)
                }
                continue
            }
            do {
                add(try seg.rollups(of: target))
            } catch {
                problems.append(error)
                reportDamage(seg, error)
            }
        }
        for block in head {
            let runs = block.table.runs.filter { $0.target == target }
            if !runs.isEmpty { add(RollupBuilder.rows(target: target, runs: runs, probes: block.table.probes, tiers: [tier])) }
        }
        var rows = [RollupRow]()
        for (_, byBucket) in merged { rows += byBucket.values }
        rows.sort { ($0.ttl, $0.bucketMicros) < ($1.ttl, $1.bucketMicros) }
        return (rows, problems)
    }

    /// The earliest and latest run start held, or nil for an empty store.
    public var timeRange: ClosedRange<Int64>? {
        var lo = Int64.max, hi = Int64.min
        for s in segments where s.runCount > 0 {
            lo = min(lo, s.minStartMicros)
            hi = max(hi, s.maxStartMicros)
        }
        for b in head {
            for r in b.table.runs {
                lo = min(lo, r.startMicros)
                hi = max(hi, r.startMicros)
            }
        }
        return lo <= hi ? lo...hi : nil
    }
}

/// The decoded chunks of `StoreSnapshot.decodeChunks`, each set by the one worker that decodes it.
///
/// `@unchecked Sendable`: each slot is written by one iteration of `concurrentPerform`, and
/// read only after it has returned, which orders every write before the reads. The slots are
/// memory this object owns, not an array, so that the workers' writes are to distinct
/// elements and never a mutating access to one shared array value.
private final class ChunkResults: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Result<RunTable, StorageError>>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: .success(RunTable()))
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    func set(_ i: Int, _ value: Result<RunTable, StorageError>) {
        slots[i] = value
    }

    var values: [Result<RunTable, StorageError>] { Array(slots) }
}

/// A consistent view of the store at one instant: the catalog, the segments and the head blocks
/// as they were when it was taken. Later writes, compactions and retention do not change it, and
/// the files it refers to stay readable for as long as it is held.
public struct StoreSnapshot: Sendable {
    public let catalog: Catalog
    public let segments: [Segment]
    /// Rollup-only files left by retention.
    public let rollupFiles: [Segment]
    public let head: [HeadBlock]
    /// Scheduled runs that did not start, oldest first as recorded.
    public let missedSlots: [MissedSlot]
    /// Called when a segment turns out to be damaged while reading, so the store can quarantine it.
    let reportDamage: @Sendable (Segment, StorageError) -> Void

    /// The runs of `target` that started in `range`, oldest first, with the probe fields
    /// `fields` names. A damaged segment is reported (and quarantined by the store) and its runs
    /// left out; the problems are returned too.
    public func runs(of target: TargetID, in range: Range<Int64>, fields: ProbeFields = .all) -> (table: RunTable, problems: [StorageError]) {
        var out = RunTable()
        var problems = [StorageError]()
        var sources = [RunTable]()
        for seg in segments {
            guard let e = seg.entry(for: target), e.maxStartMicros >= range.lowerBound, e.minStartMicros < range.upperBound else { continue }
            do {
                sources.append(try seg.runs(of: target, catalog: catalog, fields: fields))
            } catch {
                problems.append(error)
                reportDamage(seg, error)
            }
        }
        for block in head {
            var t = RunTable()
            for run in block.table.runs where run.target == target {
                t.append(run, from: block.table)
            }
            if !t.isEmpty { sources.append(t) }
        }
        // One source wholly inside the range (a target-day of a compacted store) is the answer.
        if sources.count == 1, sources[0].runs.allSatisfy({ range.contains($0.startMicros) }) {
            var only = sources[0]
            only.sortByStart()
            return (only, problems)
        }
        // Segments come in time order and rarely overlap: concatenate, and sort only if needed.
        for t in sources {
            for r in t.runs where range.contains(r.startMicros) {
                out.append(r, from: t)
            }
        }
        out.sortByStart()
        return (out, problems)
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
        for seg in segments where seg.index.eventCount > 0 && seg.maxStartMicros >= range.lowerBound && seg.minStartMicros < range.upperBound {
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

    /// Rollup rows of `target` at `tier` for buckets starting in `range`, merged across every
    /// source (segments, rollup files, and the head computed on the fly).
    public func rollups(of target: TargetID, tier: RollupTier, in range: Range<Int64>) -> (rows: [RollupRow], problems: [StorageError]) {
        var merged = [UInt16: [Int64: RollupRow]]()
        var problems = [StorageError]()
        func add(_ rows: [RollupRow]) {
            for r in rows where r.tier == tier && range.contains(r.bucketMicros) {
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

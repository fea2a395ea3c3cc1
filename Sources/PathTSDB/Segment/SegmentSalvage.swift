/// Rewrites a segment that holds damaged blocks into a new one with everything that still reads,
/// so that one damaged chunk costs one target's runs of the segment's span, not every target's.
struct SegmentSalvage {
    /// Targets whose runs did not read: lost for the segment's span, with their rollup rows (kept
    /// alone, the rows would count twice once the lost runs are stored again).
    var lostRuns: [TargetID] = []
    /// Targets of a rollup-only file whose rollup rows did not read.
    var lostRollups: [TargetID] = []
    /// Targets whose rollup rows were rebuilt from their runs.
    var rebuiltRollups: [TargetID] = []
    /// The path-change events block did not read: the segment's events are lost.
    var lostEvents = false
    /// The detector-state block did not read: the replacement holds a fresh detector.
    var lostDetectorState = false
    /// The file written, with the original's level, WAL high water and ancestry (the original
    /// among it, so an open after a crash before the original was moved removes it); nil when
    /// nothing read at all and nothing was written.
    var replacement: String?

    /// Lines for the quarantined original's `.cause` file (FORMAT.md, "Quarantine").
    var causeLines: [String] {
        var lines = [String]()
        if let replacement { lines.append("salvaged-into \(replacement.split(separator: "/").suffix(2).joined(separator: "/"))") }
        if !lostRuns.isEmpty { lines.append("lost-runs " + lostRuns.map { String($0.rawValue) }.joined(separator: " ")) }
        if !lostRollups.isEmpty { lines.append("lost-rollups " + lostRollups.map { String($0.rawValue) }.joined(separator: " ")) }
        if lostEvents { lines.append("lost-events") }
        if lostDetectorState { lines.append("lost-detector-state") }
        return lines
    }

    /// Reads every target's runs and rollups, the events and the detector state of `segment`, and
    /// writes what reads as segment `id` in the original's directory.
    static func rewrite(_ segment: Segment, catalog: Catalog, id: SegmentID, zstdLevel: Int32) throws(StorageError) -> SegmentSalvage {
        var salvage = SegmentSalvage()
        let directory = segment.path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let writer = try SegmentWriter(directory: directory, id: id, level: segment.level, zstdLevel: zstdLevel)
        var written = 0
        do throws(StorageError) {
            for target in segment.targets {
                guard let entry = segment.entry(for: target) else { continue }
                let hasChunk = entry.chunkLength > 0
                // Damage costs what it held; any other failure (an I/O error) stops the salvage,
                // so that a passing failure never costs data.
                func damaged<T>(_ read: () throws(StorageError) -> T) throws(StorageError) -> T? {
                    do { return try read() } catch where error.code == .corruption { return nil }
                }
                let table: RunTable? = hasChunk ? try damaged { () throws(StorageError) in try segment.runs(of: target, catalog: catalog) } : RunTable()
                let readRows = try damaged { () throws(StorageError) in try segment.rollups(of: target) }
                if let table, !table.runs.isEmpty {
                    // Rows written before the end-to-end rows lack them: rebuilt whole from the runs.
                    let rows: [RollupRow]
                    if let readRows, segment.version >= SegmentFormat.endToEndRollupVersion {
                        rows = readRows
                    } else {
                        rows = RollupBuilder.rows(target: target, runs: table.runs, probes: table.probes, tiers: RollupTier.storedWithSegments)
                            .sorted { ($0.tier, $0.ttl, $0.bucketMicros) < ($1.tier, $1.ttl, $1.bucketMicros) }
                        if readRows == nil { salvage.rebuiltRollups.append(target) }
                    }
                    try writer.add(SegmentTargetInput(target: target, table: table, rollups: rows), catalog: catalog)
                    written += 1
                } else if hasChunk {
                    // The rows go with the runs: kept alone, they would count twice once the
                    // lost runs are stored again (an import run again stores exactly those).
                    salvage.lostRuns.append(target)
                } else if let readRows, !readRows.isEmpty {
                    try writer.addRollups(target: target, rows: readRows, minStartMicros: entry.minStartMicros, maxStartMicros: entry.maxStartMicros)
                    written += 1
                } else if readRows == nil {
                    salvage.lostRollups.append(target)
                }
            }
            let events: [PathChangeEvent]
            do { events = try segment.events() } catch where error.code == .corruption {
                salvage.lostEvents = true
                events = []
            }
            let state: PathChangeDetector
            do { state = try segment.detectorState() } catch where error.code == .corruption {
                salvage.lostDetectorState = true
                state = PathChangeDetector()
            }
            guard written > 0 || !events.isEmpty else {
                writer.abandon()
                return salvage
            }
            salvage.replacement = try writer.finish(events: events, state: state, walHighWater: segment.walHighWater,
                                                    sources: [segment.id] + segment.sources)
        } catch {
            writer.abandon()
            throw error
        }
        return salvage
    }
}

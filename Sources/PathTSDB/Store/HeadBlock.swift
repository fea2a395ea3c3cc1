/// One appended batch in the head: immutable once published, shared by every snapshot that
/// saw it.
public final class HeadBlock: Sendable {
    public let table: RunTable
    public let events: [PathChangeEvent]
    /// The WAL record that holds this batch.
    let walSequence: UInt64

    init(table: RunTable, events: [PathChangeEvent], walSequence: UInt64) {
        self.table = table
        self.events = events
        self.walSequence = walSequence
    }
}

/// Turns `TraceRun`s into dictionary-coded head records, interning names, addresses and paths
/// and running the path-change detector.
struct HeadIngester {
    var catalog: Catalog
    var detector: PathChangeDetector

    mutating func ingest(_ runs: [TraceRun], walSequence: UInt64) -> HeadBlock {
        var table = RunTable()
        var events = [PathChangeEvent]()
        table.runs.reserveCapacity(runs.count)
        var probes = [ProbeRecord]()
        for run in runs {
            probes.removeAll(keepingCapacity: true)
            var labels = [[MPLSLabel]]()
            for p in run.probes {
                var rec = ProbeRecord(ttl: p.ttl, replyTTL: p.replyTTL, icmpType: p.icmpType, icmpCode: p.icmpCode,
                                      address: .none, rttMicros: p.rttMicros, mplsIndex: 0)
                if let a = p.address { rec.address = catalog.intern(address: a) }
                if !p.mplsLabels.isEmpty {
                    labels.append(p.mplsLabels)
                    rec.mplsIndex = UInt32(labels.count)
                }
                probes.append(rec)
            }
            let target = catalog.intern(target: run.target)
            let vantage = catalog.intern(vantage: run.vantage)
            let path = catalog.intern(path: PathHops.of(probes: probes))
            let record = RunRecord(target: target, vantage: vantage, method: run.method, flowID: run.flowID, reached: run.reached,
                                   startMicros: run.startMicros, endMicros: run.endMicros,
                                   destination: catalog.intern(address: run.destination), path: path, firstProbe: 0, probeCount: 0)
            table.append(run: record, probes: probes) { labels[Int($0.mplsIndex) - 1] }
            if let e = detector.observe(target: target, vantage: vantage, flow: run.flowID, path: path,
                                        timeMicros: run.startMicros, catalog: catalog) {
                events.append(e)
            }
        }
        return HeadBlock(table: table, events: events, walSequence: walSequence)
    }
}

/// One appended batch in the head: immutable once published, shared by every snapshot that
/// saw it.
package final class HeadBlock: Sendable {
    package let table: RunTable
    package let events: [PathChangeEvent]
    /// The WAL record that holds this batch.
    let walSequence: WALSequence

    init(table: RunTable, events: [PathChangeEvent], walSequence: WALSequence) {
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
    /// The path each target's last run took. A target's path rarely changes, so comparing the
    /// hops with these saves hashing the whole path for every run.
    private var lastPath: [PathID] = []

    init(catalog: Catalog, detector: PathChangeDetector) {
        self.catalog = catalog
        self.detector = detector
    }

    mutating func ingest(_ runs: [TraceRun], walSequence: WALSequence) -> HeadBlock {
        var table = RunTable()
        var events = [PathChangeEvent]()
        table.reserveCapacity(runs: runs.count, probes: runs.reduce(0) { $0 + $1.probes.count })
        var probes = [ProbeRecord]()
        for run in runs {
            probes.removeAll(keepingCapacity: true)
            var labels = [[MPLSLabel]]()
            // The probes of one hop mostly answer from one address: intern it once.
            var lastAddress: IPAddress?
            var lastAddressID = AddressID.none
            // Whether two probes answered from different addresses at one TTL.
            var ttlOfFirst: UInt8 = 0, firstAtTTL = AddressID.none, severalAtOneTTL = false
            for p in run.probes {
                var rec = ProbeRecord(ttl: p.ttl, replyTTL: p.replyTTL, icmpType: p.icmpType, icmpCode: p.icmpCode,
                                      address: .none, rttMicros: p.rttMicros, mplsIndex: 0)
                if let a = p.address {
                    if a != lastAddress {
                        lastAddress = a
                        lastAddressID = catalog.intern(address: a)
                    }
                    rec.address = lastAddressID
                    if p.ttl != ttlOfFirst {
                        ttlOfFirst = p.ttl
                        firstAtTTL = lastAddressID
                    } else if lastAddressID != firstAtTTL {
                        severalAtOneTTL = true
                    }
                }
                if !p.mplsLabels.isEmpty {
                    labels.append(p.mplsLabels)
                    rec.mplsIndex = UInt32(labels.count)
                }
                probes.append(rec)
            }
            let target = catalog.intern(target: run.target)
            let vantage = catalog.intern(vantage: run.vantage)
            // Probes that did not share one flow may each have taken another branch: their
            // path keeps every address per TTL, and the route, not the path, is compared.
            let multiFlow = !run.method.pinsFlow || severalAtOneTTL
            let path = multiFlow ? catalog.intern(path: PathHops.withBranches(probes: probes)) : internPath(of: probes, target: target)
            var record = RunRecord(target: target, vantage: vantage, method: run.method, flowID: run.flowID, reached: run.reached,
                                   startMicros: run.startMicros, endMicros: run.endMicros,
                                   destination: catalog.intern(address: run.destination), path: path, firstProbe: 0, probeCount: 0)
            record.interrupted = run.interrupted
            if let figures = run.figures {
                table.figureLists.append(figures)
                record.figuresIndex = Int32(table.figureLists.count)
            }
            if labels.isEmpty {
                table.append(run: record, unlabelledProbes: probes)
            } else {
                table.append(run: record, probes: probes) { labels[Int($0.mplsIndex) - 1] }
            }
            // A trace stopped part-way is kept, but is no evidence of a path: the hops it did
            // not get to, and a destination it did not wait for, would read as a change.
            guard !run.interrupted else { continue }
            let observation = PathChangeDetector.Observation(
                target: target, vantage: vantage, flow: run.flowID, path: path, reached: run.reached,
                destination: record.destination, timeMicros: run.startMicros, multiFlow: multiFlow, probes: probes)
            if let e = detector.observe(observation, catalog: &catalog) { events.append(e) }
        }
        return HeadBlock(table: table, events: events, walSequence: walSequence)
    }

    /// The id of the path `probes` took, checked first against the target's last path.
    private mutating func internPath(of probes: [ProbeRecord], target: TargetID) -> PathID {
        let hops = PathHops.of(probes: probes)
        let slot = Int(target.rawValue)
        if slot < lastPath.count, let last = catalog.path(of: lastPath[slot]), last == hops {
            return lastPath[slot]
        }
        let id = catalog.intern(path: hops)
        if slot >= lastPath.count { lastPath += Array(repeating: PathID(rawValue: 0), count: slot + 1 - lastPath.count) }
        lastPath[slot] = id
        return id
    }
}

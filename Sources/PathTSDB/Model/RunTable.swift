/// One run, dictionary-coded, as the head and decoded segment chunks hold it.
public struct RunRecord: Hashable, Sendable {
    public var target: TargetID
    public var vantage: VantageID
    public var method: TraceMethod
    public var flowID: UInt16
    public var reached: Bool
    public var startMicros: Int64
    public var endMicros: Int64
    public var destination: AddressID
    public var path: PathID
    /// The trace was stopped before it finished (`TraceRun.interrupted`).
    public var interrupted: Bool = false
    /// 0 for a trace; for a report, 1 + an index into the table's `figureLists`.
    public var figuresIndex: Int32 = 0
    /// Index of the run's first probe in its table's `probes`.
    public var firstProbe: Int32
    public var probeCount: Int32

    public var probeRange: Range<Int> { Int(firstProbe)..<Int(firstProbe + probeCount) }

    /// A report's run (mtr `--report`, `--json`): its replies are untimed.
    public var isReport: Bool { figuresIndex != 0 }
}

/// One probe, dictionary-coded; `address == .none` is a lost probe.
public struct ProbeRecord: Hashable, Sendable {
    public var ttl: UInt8
    public var replyTTL: UInt8
    public var icmpType: UInt8
    public var icmpCode: UInt8
    public var address: AddressID
    public var rttMicros: UInt32
    /// 0 when the reply had no MPLS labels, else 1 + an index into the table's `mplsStacks`.
    public var mplsIndex: UInt32

    public var isLoss: Bool { address.isNone }

    /// A reply whose round-trip time is known (a report's replies have none).
    public var isTimed: Bool { !address.isNone && rttMicros != ProbeReply.untimed }
}

/// Runs with their probes, in columns of plain records: what a head block holds and what a
/// segment chunk decodes to, so that readers treat both alike.
public struct RunTable: Sendable {
    public var runs: [RunRecord] = []
    public var probes: [ProbeRecord] = []
    public var mplsStacks: [[MPLSLabel]] = []
    /// The figures of the table's report runs (`RunRecord.figuresIndex`).
    public var figureLists: [[HopFigures]] = []

    public init() {}

    /// The report figures of `run`, or nil for a trace.
    public func figures(of run: RunRecord) -> [HopFigures]? {
        run.figuresIndex == 0 ? nil : figureLists[Int(run.figuresIndex) - 1]
    }

    public var isEmpty: Bool { runs.isEmpty }

    /// The MPLS labels of `probe`.
    public func mplsLabels(of probe: ProbeRecord) -> [MPLSLabel] {
        probe.mplsIndex == 0 ? [] : mplsStacks[Int(probe.mplsIndex) - 1]
    }

    /// Appends `run` of `source` with its probes and their MPLS labels.
    mutating func append(_ run: RunRecord, from source: RunTable) {
        var run = run
        if let f = source.figures(of: run) {
            figureLists.append(f)
            run.figuresIndex = Int32(figureLists.count)
        }
        if source.mplsStacks.isEmpty {
            append(run: run, unlabelledProbes: source.probes[run.probeRange])
        } else {
            append(run: run, probes: source.probes[run.probeRange]) { source.mplsLabels(of: $0) }
        }
    }

    /// Appends a run whose probes carry no MPLS labels: with none to renumber, the probes copy
    /// as one block.
    mutating func append(run: RunRecord, unlabelledProbes runProbes: some Collection<ProbeRecord>) {
        var r = run
        r.firstProbe = Int32(probes.count)
        r.probeCount = Int32(runProbes.count)
        runs.append(r)
        probes.append(contentsOf: runProbes)
    }

    /// The runs of `tables` that `keep` accepts, table after table, with their probes and
    /// labels, in one table sized once for all of them.
    init(concatenating tables: [RunTable], keeping keep: (RunRecord) -> Bool = { _ in true }) {
        reserveCapacity(runs: tables.reduce(0) { $0 + $1.runs.count }, probes: tables.reduce(0) { $0 + $1.probes.count })
        for t in tables {
            for r in t.runs where keep(r) { append(r, from: t) }
        }
    }

    /// Makes room for `runs` more runs and `probes` more probes.
    mutating func reserveCapacity(runs moreRuns: Int, probes moreProbes: Int) {
        runs.reserveCapacity(runs.count + moreRuns)
        probes.reserveCapacity(probes.count + moreProbes)
    }

    /// Appends a run whose probes are `runProbes`, fixing up its probe range.
    mutating func append(run: RunRecord, probes runProbes: some Collection<ProbeRecord>, mpls: (ProbeRecord) -> [MPLSLabel]) {
        var r = run
        r.firstProbe = Int32(probes.count)
        r.probeCount = Int32(runProbes.count)
        runs.append(r)
        for var p in runProbes {
            if p.mplsIndex != 0 {
                mplsStacks.append(mpls(p))
                p.mplsIndex = UInt32(mplsStacks.count)
            }
            probes.append(p)
        }
    }
}

/// Which probe fields a read decodes. Segments keep each field in a column of its own, so a
/// reader that needs only where and how fast probes answered skips the rest unread.
public struct ProbeFields: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Reply TTL, ICMP type and code, MPLS labels; without it they read as zero and empty.
    public static let replyDetails = ProbeFields(rawValue: 1)

    /// Everything a probe record holds.
    public static let all: ProbeFields = [.replyDetails]
    /// TTL, responding address (or loss) and RTT: what statistics and exports use.
    public static let timing: ProbeFields = []
}

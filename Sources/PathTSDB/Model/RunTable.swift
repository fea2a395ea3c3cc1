/// One run, dictionary-coded, as the head and decoded segment chunks hold it.
public struct RunRecord: Hashable, Sendable {
    /// The target traced.
    public var target: TargetID
    /// Where the run was traced from.
    public var vantage: VantageID
    /// How the probes were sent.
    public var method: TraceMethod
    /// The flow held constant across the probes (Paris id, source port).
    public var flowID: UInt16
    /// Whether the destination answered.
    public var reached: Bool
    /// Start, microseconds since the Unix epoch.
    public var startMicros: Int64
    /// End, microseconds since the Unix epoch.
    public var endMicros: Int64
    /// The destination address.
    public var destination: AddressID
    /// The path the run took (see `Catalog.path(of:)`).
    public var path: PathID
    /// The trace was stopped before it finished (`TraceRun.interrupted`).
    public var interrupted: Bool = false
    /// 0 for a trace; for a report, 1 + an index into the table's `figureLists`.
    public var figuresIndex: Int32 = 0
    /// Index of the run's first probe in its table's `probes`.
    public var firstProbe: Int32
    /// How many of the table's probes are this run's.
    public var probeCount: Int32

    /// This run's probes' indices in `RunTable.probes`.
    public var probeRange: Range<Int> { Int(firstProbe)..<Int(firstProbe + probeCount) }

    /// A report's run (mtr `--report`, `--json`): its replies are untimed.
    public var isReport: Bool { figuresIndex != 0 }
}

/// One probe, dictionary-coded; `address == .none` is a lost probe.
public struct ProbeRecord: Hashable, Sendable {
    /// The TTL the probe was sent with (the hop number).
    public var ttl: UInt8
    /// The TTL of the reply as received; 0 with `ProbeFields.timing` reads or no reply.
    public var replyTTL: UInt8
    /// The reply's ICMP type; 0 with `ProbeFields.timing` reads or no reply.
    public var icmpType: UInt8
    /// The reply's ICMP code; 0 with `ProbeFields.timing` reads or no reply.
    public var icmpCode: UInt8
    /// Who answered; `AddressID.none` when nothing did.
    public var address: AddressID
    /// Round-trip time in microseconds; 0 for loss, `ProbeReply.untimed` for a report's reply.
    public var rttMicros: UInt32
    /// 0 when the reply had no MPLS labels, else 1 + an index into the table's `mplsStacks`.
    public var mplsIndex: UInt32

    /// Whether nothing answered the probe.
    public var isLoss: Bool { address.isNone }

    /// A reply whose round-trip time is known (a report's replies have none).
    public var isTimed: Bool { !address.isNone && rttMicros != ProbeReply.untimed }
}

/// Runs with their probes, in columns of plain records: what a head block holds and what a
/// segment chunk decodes to, so that readers treat both alike.
public struct RunTable: Sendable {
    /// The runs, each naming its probes by `probeRange`.
    public var runs: [RunRecord] = []
    /// Every run's probes, run after run.
    public var probes: [ProbeRecord] = []
    /// The MPLS label stacks probes refer to by `mplsIndex` (index 0 is the empty stack).
    public var mplsStacks: [[MPLSLabel]] = []
    /// The figures of the table's report runs (`RunRecord.figuresIndex`).
    public var figureLists: [[HopFigures]] = []

    /// An empty table.
    public init() {}

    /// The report figures of `run`, or nil for a trace.
    public func figures(of run: RunRecord) -> [HopFigures]? {
        run.figuresIndex == 0 ? nil : figureLists[Int(run.figuresIndex) - 1]
    }

    /// Whether the table holds no run.
    public var isEmpty: Bool { runs.isEmpty }

    /// The MPLS labels of `probe`.
    public func mplsLabels(of probe: ProbeRecord) -> [MPLSLabel] {
        probe.mplsIndex == 0 ? [] : mplsStacks[Int(probe.mplsIndex) - 1]
    }

    /// Appends `run` of `source` with its probes and their MPLS labels.
    package mutating func append(_ run: RunRecord, from source: RunTable) {
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

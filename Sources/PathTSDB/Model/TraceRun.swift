/// How a trace was sent; the names follow scamper's where scamper has one.
public enum TraceMethod: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case unknown = 0
    case udp = 1
    case icmp = 2
    case tcp = 3
    case udpParis = 4
    case icmpParis = 5
    case tcpParis = 6

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .udp: "udp"
        case .icmp: "icmp"
        case .tcp: "tcp"
        case .udpParis: "udp-paris"
        case .icmpParis: "icmp-paris"
        case .tcpParis: "tcp-paris"
        }
    }

    /// The method called `name` as `description` spells it (`udp-paris`, `icmp`…); nil for any
    /// other.
    public init?(name: String) {
        guard let m = TraceMethod.allCases.first(where: { $0.description == name }) else { return nil }
        self = m
    }

    /// Whether every probe of a run is sent on one flow (Paris traceroute), so that per-flow
    /// load balancing sends them all down one path. Classic methods change a port, a sequence
    /// number or a checksum from probe to probe (or, like tcptraceroute, a source port from run
    /// to run), and each probe may take another branch.
    public var pinsFlow: Bool {
        switch self {
        case .udpParis, .icmpParis, .tcpParis: true
        case .unknown, .udp, .icmp, .tcp: false
        }
    }
}

/// One MPLS label stack entry from an ICMP extension (RFC 4950): label, traffic class, bottom of
/// stack and TTL, packed as on the wire.
public struct MPLSLabel: Hashable, Sendable {
    /// The 32-bit label stack entry exactly as received.
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// An entry from its fields; out-of-range bits are cut off.
    public init(label: UInt32, trafficClass: UInt8, bottomOfStack: Bool, ttl: UInt8) {
        rawValue = (label & 0xFFFFF) << 12 | UInt32(trafficClass & 7) << 9 | (bottomOfStack ? 1 << 8 : 0) | UInt32(ttl)
    }
    /// The 20-bit label.
    public var label: UInt32 { rawValue >> 12 }
    /// The 3-bit traffic class.
    public var trafficClass: UInt8 { UInt8((rawValue >> 9) & 7) }
    /// Whether this is the last entry of the stack.
    public var bottomOfStack: Bool { (rawValue >> 8) & 1 == 1 }
    /// The entry's TTL.
    public var ttl: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
}

/// One probe sent at one TTL and what came back. A probe with no reply is loss, and is kept.
public struct ProbeReply: Hashable, Sendable {
    /// The TTL the probe was sent with (the hop number).
    public var ttl: UInt8
    /// Who answered; `nil` when nothing did.
    public var address: IPAddress?
    /// Round-trip time in microseconds; meaningless when `address` is nil.
    public var rttMicros: UInt32
    /// The TTL of the reply packet as received.
    public var replyTTL: UInt8
    /// ICMP type and code of the reply (time exceeded is 11/0; echo reply 0/0; unreachable 3/x).
    public var icmpType: UInt8
    /// ICMP code of the reply.
    public var icmpCode: UInt8
    /// MPLS label stack entries quoted in the reply, outermost first.
    public var mplsLabels: [MPLSLabel]

    /// Whether nothing answered the probe.
    public var isLoss: Bool { address == nil }

    /// The `rttMicros` of a reply whose time was not recorded: a report (mtr `--report`,
    /// `--json`) says how many probes a hop answered and what their times came to, not each
    /// time. No tracer measures 71 minutes.
    public static let untimed: UInt32 = .max

    /// Whether the probe got a reply whose round-trip time is known.
    public var isTimed: Bool { address != nil && rttMicros != ProbeReply.untimed }

    /// A probe and its reply; the reply's fields are dropped when `address` is nil (loss).
    public init(ttl: UInt8, address: IPAddress?, rttMicros: UInt32 = 0, replyTTL: UInt8 = 0,
                icmpType: UInt8 = 0, icmpCode: UInt8 = 0, mplsLabels: [MPLSLabel] = []) {
        self.ttl = ttl
        self.address = address
        self.rttMicros = address == nil ? 0 : rttMicros
        self.replyTTL = address == nil ? 0 : replyTTL
        self.icmpType = address == nil ? 0 : icmpType
        self.icmpCode = address == nil ? 0 : icmpCode
        self.mplsLabels = address == nil ? [] : mplsLabels
    }

    /// A probe that got no answer.
    public static func lost(ttl: UInt8) -> ProbeReply { ProbeReply(ttl: ttl, address: nil) }
}

/// One traceroute run as a tracer or an import produced it, before it is dictionary-coded.
public struct TraceRun: Hashable, Sendable {
    /// The target's name as configured (or the destination address for imports without one).
    public var target: String
    /// Where the trace ran from: a host name, or `atlas:<probe id>`.
    public var vantage: String
    /// How the probes were sent.
    public var method: TraceMethod
    /// The flow identifier held constant across the probes (Paris id, source port…).
    public var flowID: UInt16
    /// Start and end, microseconds since the Unix epoch.
    public var startMicros: Int64
    /// End, microseconds since the Unix epoch.
    public var endMicros: Int64
    /// The address traced to.
    public var destination: IPAddress
    /// Whether the destination itself answered.
    public var reached: Bool
    /// Every probe sent, in TTL order and, within a TTL, in the order sent.
    public var probes: [ProbeReply]
    /// The trace was stopped before it finished (traceroute killed with ^C): the TTLs it did
    /// not get to say nothing, and a destination it did not reach may still answer.
    public var interrupted: Bool = false
    /// A report's figures per hop (mtr `--report`, `--json`), or nil for a trace of single
    /// probes. A report's replies are `ProbeReply.untimed`: it gives each hop's count of sent
    /// and answered probes and these figures, not the probes' times.
    public var figures: [HopFigures]?

    /// A run of `probes`; `check()` says whether its fields agree before it is stored.
    public init(target: String, vantage: String, method: TraceMethod, flowID: UInt16,
                startMicros: Int64, endMicros: Int64, destination: IPAddress, reached: Bool,
                probes: [ProbeReply]) {
        self.target = target
        self.vantage = vantage
        self.method = method
        self.flowID = flowID
        self.startMicros = startMicros
        self.endMicros = endMicros
        self.destination = destination
        self.reached = reached
        self.probes = probes
    }

    /// Checks what the store needs of a run: probes in TTL order, TTLs from 1 to 255.
    public func validate() throws(StorageError) {
        guard !target.isEmpty else { throw StorageError(.invalidArgument, "a run needs a target name") }
        var last: UInt8 = 0
        for p in probes {
            guard p.ttl >= 1 else { throw StorageError(.invalidArgument, "run for \(target): probe with TTL 0") }
            guard p.ttl >= last else { throw StorageError(.invalidArgument, "run for \(target): probes not in TTL order") }
            last = p.ttl
            // A time is either every reply's (a trace) or none's (a report).
            if p.address != nil && (p.rttMicros == ProbeReply.untimed) != (figures != nil) {
                throw StorageError(.invalidArgument, figures == nil
                    ? "run for \(target): reply at TTL \(p.ttl) without a time in a trace (only a report's replies are untimed)"
                    : "run for \(target): reply at TTL \(p.ttl) with a time in a report (a report's replies are untimed)")
            }
        }
        if let figures {
            var lastTTL: UInt8 = 0
            for f in figures {
                guard f.ttl > lastTTL else {
                    throw StorageError(.invalidArgument, "run for \(target): report figures not in rising TTL order at TTL \(f.ttl)")
                }
                lastTTL = f.ttl
            }
        }
        guard endMicros >= startMicros else {
            throw StorageError(.invalidArgument, "run for \(target): end time before start time")
        }
    }
}

/// What a report says about the answered probes of one hop: mtr's Last, Avg, Best, Wrst and
/// StDev, in microseconds. The counts of sent and answered probes are the run's probes.
public struct HopFigures: Hashable, Sendable {
    /// The hop.
    public var ttl: UInt8
    /// mtr's Last: the newest answered probe's RTT.
    public var lastMicros: UInt32
    /// mtr's Avg.
    public var averageMicros: UInt32
    /// mtr's Best.
    public var bestMicros: UInt32
    /// mtr's Wrst.
    public var worstMicros: UInt32
    /// mtr's StDev.
    public var stdDevMicros: UInt32

    /// A hop's figures, each in microseconds.
    public init(ttl: UInt8, lastMicros: UInt32, averageMicros: UInt32, bestMicros: UInt32, worstMicros: UInt32, stdDevMicros: UInt32) {
        self.ttl = ttl
        self.lastMicros = lastMicros
        self.averageMicros = averageMicros
        self.bestMicros = bestMicros
        self.worstMicros = worstMicros
        self.stdDevMicros = stdDevMicros
    }
}

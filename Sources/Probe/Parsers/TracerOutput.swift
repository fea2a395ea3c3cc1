public import PathTSDB

/// What a tracer printed about one trace: the probes, in TTL order, and what it said about the
/// destination. The caller, which started the tracer, adds target, vantage, method and times to
/// make a `TraceRun`.
public struct TracerOutput: Sendable, Equatable {
    /// The address traced, when the output names it.
    public var destination: IPAddress?
    /// Every probe, lost ones included, in TTL order.
    public var probes: [ProbeReply]
    /// Names the tracer printed for addresses (its reverse lookups).
    public var names: [IPAddress: String]
    /// Probes the tracer sent past the destination (mtr keeps probing higher TTLs, which the
    /// destination answers again); counted here rather than stored as hops.
    public var probesBeyondDestination: Int
    /// Origin AS numbers the tracer printed for addresses (traceroute `-A`). The store has no
    /// place for them yet; hop-to-AS annotation comes with the BGP feed.
    public var asNumbers: [IPAddress: UInt32] = [:]
    /// The tracer was stopped before it finished (traceroute killed with ^C): what it printed
    /// is kept, marked so that the hops it did not get to are not read as a shorter path.
    public var interrupted = false
    /// What a report (mtr `--report`, `--json`) gives per hop instead of probe times; nil for a
    /// trace. A report's replies are `ProbeReply.untimed`.
    public var figures: [HopFigures]?

    /// An output of `probes` to `destination`.
    public init(destination: IPAddress?, probes: [ProbeReply], names: [IPAddress: String] = [:], probesBeyondDestination: Int = 0) {
        self.destination = destination
        self.probes = probes
        self.names = names
        self.probesBeyondDestination = probesBeyondDestination
    }

    /// Whether the destination itself answered.
    public var reached: Bool {
        guard let destination else { return false }
        return probes.contains { $0.address == destination }
    }

    /// The trace as a run of the store.
    public func run(target: String, vantage: String, method: TraceMethod, flowID: UInt16,
                    startMicros: Int64, endMicros: Int64) -> TraceRun? {
        guard let destination else { return nil }
        var run = TraceRun(target: target, vantage: vantage, method: method, flowID: flowID, startMicros: startMicros,
                           endMicros: max(startMicros, endMicros), destination: destination, reached: reached, probes: probes)
        run.interrupted = interrupted
        run.figures = figures
        return run
    }
}

/// ICMP type and code of a reply, from what the tracer shows.
enum ReplyKind {
    static let timeExceeded: (UInt8, UInt8) = (11, 0)
    static let timeExceededV6: (UInt8, UInt8) = (3, 0)
    /// A TCP answer (SYN-ACK or RST) is no ICMP message.
    static let tcpAnswer: (UInt8, UInt8) = (255, 0)

    /// What a destination's own answer is for `method`.
    static func destination(_ method: TraceMethod, v6: Bool) -> (UInt8, UInt8) {
        switch method {
        case .icmp, .icmpParis: v6 ? (129, 0) : (0, 0)
        case .tcp, .tcpParis: tcpAnswer
        default: v6 ? (1, 4) : (3, 3)
        }
    }

    static func intermediate(v6: Bool) -> (UInt8, UInt8) { v6 ? timeExceededV6 : timeExceeded }
}

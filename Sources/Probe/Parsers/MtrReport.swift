public import PathTSDB

/// One hop of an mtr report (`--report`, `--report-wide`, `--json`): what mtr counted and
/// computed over the probes of that hop, not the probes.
public struct MtrReportHop: Sendable, Equatable {
    /// The hop.
    public var ttl: UInt8
    /// The hop's hosts: the first is the one the figures are printed beside, the others
    /// answered too (the indented lines of a text report; mtr's JSON keeps the first only).
    /// Empty where mtr printed `???` (nothing answered).
    public var hosts: [IPAddress]
    /// Probes sent to this hop (`Snt`).
    public var sent: Int
    /// Probes answered (`Snt` less the lost, from `Loss%` or `Rcv`).
    public var received: Int
    /// The figures mtr printed, in µs; `ProbeReply.untimed` for one the report left out (`-o`).
    public var lastMicros, averageMicros, bestMicros, worstMicros, stdDevMicros: UInt32
    /// MPLS labels mtr printed for a host (`-e`).
    public var labels: [IPAddress: [MPLSLabel]] = [:]

    /// A hop's counts and figures; figures not given are `ProbeReply.untimed`.
    public init(ttl: UInt8, hosts: [IPAddress], sent: Int, received: Int, lastMicros: UInt32 = ProbeReply.untimed,
                averageMicros: UInt32 = ProbeReply.untimed, bestMicros: UInt32 = ProbeReply.untimed,
                worstMicros: UInt32 = ProbeReply.untimed, stdDevMicros: UInt32 = ProbeReply.untimed) {
        self.ttl = ttl
        self.hosts = hosts
        self.sent = sent
        self.received = received
        self.lastMicros = lastMicros
        self.averageMicros = averageMicros
        self.bestMicros = bestMicros
        self.worstMicros = worstMicros
        self.stdDevMicros = stdDevMicros
    }
}

/// A whole report: its hops, and what it says of the destination and the time it started.
public struct MtrReport: Sendable, Equatable {
    /// The hops, in TTL order.
    public var hops: [MtrReportHop]
    /// The destination, when the report names it as an address (JSON's `dst`; a text report
    /// names only the host mtr ran on).
    public var destination: IPAddress?
    /// When the report started (a text report's `Start:` line), µs since the epoch.
    public var startMicros: Int64?
    /// Origin AS numbers mtr printed (`-z`).
    public var asNumbers: [IPAddress: UInt32] = [:]
    /// Names mtr printed beside addresses (`-b`).
    public var names: [IPAddress: String] = [:]

    /// The report as a run of the store: per hop, `sent` probes, of which `received` answered
    /// (untimed: a report has no probe's time) and the rest lost, with the hop's figures beside
    /// them. mtr does not say how a hop's replies split among its hosts; each further host is
    /// given one reply and the first host the rest.
    public func output(destination: IPAddress, method: TraceMethod) -> TracerOutput {
        var probes = [ProbeReply]()
        var figures = [HopFigures]()
        for hop in hops {
            var repliesOf = hop.hosts.map { _ in 1 }
            if let first = repliesOf.indices.first { repliesOf[first] = max(0, hop.received - (hop.hosts.count - 1)) }
            var left = hop.received
            for (host, count) in zip(hop.hosts, repliesOf) {
                let kind = host == destination ? ReplyKind.destination(method, v6: !host.isIPv4) : ReplyKind.intermediate(v6: !host.isIPv4)
                for _ in 0..<min(count, left) {
                    probes.append(ProbeReply(ttl: hop.ttl, address: host, rttMicros: ProbeReply.untimed, icmpType: kind.0,
                                             icmpCode: kind.1, mplsLabels: hop.labels[host] ?? []))
                }
                left -= min(count, left)
            }
            for _ in 0..<(hop.sent - hop.received) { probes.append(.lost(ttl: hop.ttl)) }
            if hop.received > 0 {
                figures.append(HopFigures(ttl: hop.ttl, lastMicros: hop.lastMicros, averageMicros: hop.averageMicros,
                                          bestMicros: hop.bestMicros, worstMicros: hop.worstMicros, stdDevMicros: hop.stdDevMicros))
            }
        }
        var out = TracerOutput(destination: destination, probes: probes, names: names)
        out.asNumbers = asNumbers
        out.figures = figures
        return out
    }

    /// The probes a hop lost, from mtr's `Loss%` (printed to one decimal, of at most a few
    /// thousand probes, so it gives the count back exactly).
    static func lost(sent: Int, lossPercent: Double) -> Int {
        min(sent, max(0, Int((Double(sent) * lossPercent / 100).rounded())))
    }
}
